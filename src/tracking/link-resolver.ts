import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { linkPosition } from '../render/issue-links.ts';

export interface RegisteredLink {
  url: string;
  kind: string;
}

export interface LinkResolver {
  /** The link registered for an issue at a position, or null. Never takes a destination from elsewhere. */
  resolve(issueId: number, position: number): Promise<RegisteredLink | null>;
}

/**
 * Reads an issue's registered links (issue_links) once and keeps them for `ttlMs`: a burst of clicks
 * costs one query per issue, not one per click. Links are written before an issue is sent and never
 * change afterwards, so a short cache cannot redirect anywhere unregistered; for the same reason a
 * reload that fails (the database away) keeps answering from the links loaded before.
 */
export function createLinkResolver(db: Db, ttlMs = 60_000): LinkResolver {
  const cache = new Map<number, { loadedAt: number; links: Promise<Map<number, RegisteredLink>> }>();
  return {
    async resolve(issueId, position) {
      const now = Date.now();
      let entry = cache.get(issueId);
      if (!entry || now - entry.loadedAt > ttlMs) {
        const before = entry?.links;
        const links = Promise.all([
          db
            .selectFrom('issue_links')
            .select(['position', 'url', 'kind'])
            .where('issue_id', '=', issueId)
            .execute(),
          // The scheme the issue's snapshot was taken with; none (or no snapshot) is an issue built before: 'hashed'.
          db
            .selectFrom('issues')
            .select(sql<string | null>`content_snapshot->>'linkPositions'`.as('scheme'))
            .where('id', '=', issueId)
            .executeTakeFirst(),
        ]).then(
          ([rows, issue]) => linksByPosition(rows, (issue?.scheme ?? 'hashed') === 'hashed'),
          (error: unknown) => {
            if (!before) throw error;
            return before;
          },
        );
        entry = { loadedAt: now, links };
        cache.set(issueId, entry);
        links.catch(() => cache.delete(issueId));
        if (cache.size > 1_000) cache.delete(cache.keys().next().value as number);
      }
      return (await entry.links).get(position) ?? null;
    },
  };
}

/**
 * Each link at its stored position. In an issue of the 'hashed' scheme (built before positions became
 * indexes), also at the position its URL hashes to now: a migration that re-encoded a stored URL kept
 * the position already mailed, while an edition rendered afterwards (an issue still sending) derives the
 * position from the new text. Either resolves to the same registered link; a derived position never
 * replaces a stored one. An 'indexed' issue's tokens carry only stored positions.
 */
function linksByPosition(rows: Array<{ position: number; url: string; kind: string }>, hashed: boolean) {
  const links = new Map<number, RegisteredLink>();
  for (const row of rows) links.set(row.position, { url: row.url, kind: row.kind });
  if (!hashed) return links;
  for (const row of rows) {
    const derived = linkPosition(row.url);
    if (!links.has(derived)) links.set(derived, { url: row.url, kind: row.kind });
  }
  return links;
}
