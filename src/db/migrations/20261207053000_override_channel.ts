import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
//
// Each editorial override says where it came from: 'editor' (the web editor) or 'cli' (`recap issue …`),
// until editor accounts exist. Rows written before stay NULL and are shown as "unknown".
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE issue_overrides
      ADD COLUMN created_by text CHECK (created_by IS NULL OR created_by IN ('editor', 'cli'))
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE issue_overrides DROP COLUMN created_by`.execute(db);
}
