/**
 * How much a source's word counts, 0..1, by source name (case-insensitive) or by its host name.
 * A deliberately short default: wire services, papers of record and peer-reviewed journals high,
 * specialist tech press in the middle. Anything not listed gets DEFAULT_AUTHORITY.
 */
export const DEFAULT_AUTHORITY = 0.5;

export const defaultSourceAuthority: Readonly<Record<string, number>> = Object.freeze({
  reuters: 0.9,
  'associated press': 0.9,
  bloomberg: 0.9,
  'financial times': 0.9,
  'the wall street journal': 0.9,
  nature: 0.95,
  science: 0.95,
  'the new york times': 0.85,
  'mit technology review': 0.85,
  'the information': 0.85,
  'ars technica': 0.8,
  'ieee spectrum': 0.8,
  politico: 0.8,
  'the verge': 0.75,
  techcrunch: 0.75,
  wired: 0.75,
  axios: 0.75,
  'scmp technology': 0.75,
  venturebeat: 0.65,
  arxiv: 0.7,
});

export type AuthorityTable = Readonly<Record<string, number>>;

/** The authority of a source: by exact name, then by host name without `www.`, else the fallback. */
export function authorityOf(
  source: { name: string; url: string | null },
  table: AuthorityTable,
  fallback: number = DEFAULT_AUTHORITY,
): number {
  const byName = table[source.name.trim().toLowerCase()];
  if (byName !== undefined) return byName;
  if (source.url) {
    try {
      const host = new URL(source.url).hostname.toLowerCase().replace(/^www\./, '');
      const byHost = table[host];
      if (byHost !== undefined) return byHost;
    } catch {
      // An unparseable source URL simply has no host entry.
    }
  }
  return fallback;
}
