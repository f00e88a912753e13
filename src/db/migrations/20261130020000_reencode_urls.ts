import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
// Stored story and link URLs take their WHATWG-serialised form (non-ASCII percent-encoded, IDN hosts in
// punycode), so a redirect to one is always a valid header. A link keeps its position: the click tokens
// already mailed name (issue, position), never the URL. Data only, idempotent.

const BATCH = 1_000;

function reencoded(value: string | null): string | null {
  if (value === null) return null;
  try {
    const url = new URL(value.trim());
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return value;
    return url.href;
  } catch {
    return value;
  }
}

function reencodedRelated(related: unknown): unknown {
  if (!Array.isArray(related)) return related;
  return related.map((item) =>
    item && typeof item === 'object' && typeof (item as { url?: unknown }).url === 'string'
      ? { ...item, url: reencoded((item as { url: string }).url) }
      : item,
  );
}

export async function up(db: Kysely<any>): Promise<void> {
  let after = '';
  for (;;) {
    const rows = await sql<{ id: string; url: string; source_url: string | null; related: unknown }>`
      SELECT id, url, source_url, related FROM stories WHERE id > ${after} ORDER BY id LIMIT ${BATCH}
    `.execute(db);
    if (rows.rows.length === 0) break;
    after = rows.rows[rows.rows.length - 1]?.id ?? after;
    const changed = rows.rows.flatMap((row) => {
      const url = reencoded(row.url) as string;
      const sourceUrl = reencoded(row.source_url);
      const related = JSON.stringify(reencodedRelated(row.related));
      return url !== row.url || sourceUrl !== row.source_url || related !== JSON.stringify(row.related)
        ? [{ id: row.id, url, sourceUrl, related }]
        : [];
    });
    if (changed.length > 0) {
      await sql`
        UPDATE stories s SET url = c.url, source_url = c.source_url, related = c.related::jsonb
        FROM unnest(${changed.map((c) => c.id)}::text[], ${changed.map((c) => c.url)}::text[],
          ${changed.map((c) => c.sourceUrl)}::text[], ${changed.map((c) => c.related)}::text[])
          AS c(id, url, source_url, related)
        WHERE s.id = c.id
      `.execute(db);
    }
  }

  // Links, one issue at a time: (issue_id, url) is unique, so a link whose new form another link of the
  // same issue already has keeps its old text (the click redirect encodes it when answering).
  const issues = await sql<{
    issue_id: number;
  }>`SELECT DISTINCT issue_id FROM issue_links ORDER BY issue_id`.execute(db);
  for (const { issue_id: issueId } of issues.rows) {
    const links = await sql<{ position: number; url: string }>`
      SELECT position, url FROM issue_links WHERE issue_id = ${issueId}
    `.execute(db);
    const taken = new Set(links.rows.map((link) => link.url));
    const changed: Array<{ position: number; url: string }> = [];
    for (const link of links.rows) {
      const url = reencoded(link.url) as string;
      if (url === link.url || taken.has(url)) continue;
      taken.delete(link.url);
      taken.add(url);
      changed.push({ position: link.position, url });
    }
    if (changed.length > 0) {
      await sql`
        UPDATE issue_links l SET url = c.url
        FROM unnest(${changed.map((c) => c.position)}::int[], ${changed.map((c) => c.url)}::text[])
          AS c(position, url)
        WHERE l.issue_id = ${issueId} AND l.position = c.position
      `.execute(db);
    }
  }
}

export async function down(_db: Kysely<any>): Promise<void> {
  // The encoded form names the same resources; there is nothing to undo.
}
