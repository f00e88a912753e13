import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
//
// Link positions become each link's index in the registry (content_snapshot.linkPositions =
// 'indexed'); a snapshot without the key keeps the 31-bit hashed positions its mailed click tokens carry.
// An issue whose send has not started has mailed no click token and registered no link yet, so its
// snapshot moves to the new scheme: two colliding URLs can no longer stop its send.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    UPDATE issues
    SET content_snapshot = jsonb_set(content_snapshot, '{linkPositions}', '"indexed"')
    WHERE status IN ('draft', 'approved', 'scheduled')
      AND content_snapshot IS NOT NULL
      AND jsonb_typeof(content_snapshot) = 'object'
      AND NOT content_snapshot ? 'linkPositions'
      AND NOT EXISTS (SELECT 1 FROM issue_links WHERE issue_links.issue_id = issues.id)
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    UPDATE issues
    SET content_snapshot = content_snapshot - 'linkPositions'
    WHERE status IN ('draft', 'approved', 'scheduled')
      AND content_snapshot ->> 'linkPositions' = 'indexed'
      AND NOT EXISTS (SELECT 1 FROM issue_links WHERE issue_links.issue_id = issues.id)
  `.execute(db);
}
