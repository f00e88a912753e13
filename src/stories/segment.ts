/** An audience segment ("Founders & Product Leaders"); stories are tagged with segments, subscribers follow them. */
export interface Segment {
  id: number;
  name: string;
  slug: string;
}

/** "Founders & Product Leaders" -> "founders-product-leaders". */
export function segmentSlug(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}
