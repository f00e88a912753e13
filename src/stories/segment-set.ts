import { type RawBuilder, sql } from 'kysely';

/**
 * The set of segments a reader follows, the key under which an edition is rendered once and shared:
 * its slugs, distinct and sorted bytewise, joined by '+' ("engineers+founders"), as
 * deliveries.segment_key stores it. Made here and only here, in TypeScript and in SQL alike, with one
 * collation (bytewise, PostgreSQL's "C"), so the same set always gets the same key whatever the
 * database's locale.
 */
export interface SegmentSet {
  readonly key: string;
  readonly slugs: readonly string[];
}

const SEPARATOR = '+';

/** Bytewise order of the UTF-8 encodings: what COLLATE "C" does in PostgreSQL. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The set of these slugs (duplicates dropped, order irrelevant). */
export function segmentSetOf(slugs: Iterable<string>): SegmentSet {
  const sorted = [...new Set(slugs)].sort(byteOrder);
  return Object.freeze({ key: sorted.join(SEPARATOR), slugs: Object.freeze(sorted) });
}

/** The set a stored key names (deliveries.segment_key, an editor or archive URL's key). */
export function segmentSetFromKey(key: string): SegmentSet {
  return segmentSetOf(key.split(SEPARATOR).filter((slug) => slug !== ''));
}

/**
 * A key from outside (a URL or form parameter): the set, or null when it is empty or names a slug not
 * among `known`.
 */
export function parseSegmentSet(text: string, known: ReadonlySet<string>): SegmentSet | null {
  if (text === '') return null;
  const slugs = text.split(SEPARATOR);
  return slugs.every((slug) => known.has(slug)) ? segmentSetOf(slugs) : null;
}

/** The key as SQL: an aggregate over one row per followed segment, the same key segmentSetOf makes. */
export function segmentKeySql(slug: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`string_agg(${slug}, ${SEPARATOR} ORDER BY ${slug} COLLATE "C")`;
}
