/** The browser copy of an edition: `PUBLIC_URL/archive/<week>/<segment key>` (the key percent-encoded). */
export function editionArchiveUrl(publicUrl: string, week: string, segmentKey: string): string {
  return `${publicUrl}/archive/${encodeURIComponent(week)}/${encodeURIComponent(segmentKey)}`;
}

/** The public page of a whole issue: `PUBLIC_URL/archive/<week>` (where an update's earlier coverage is). */
export function issueArchiveUrl(publicUrl: string, week: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/archive/${encodeURIComponent(week)}`;
}
