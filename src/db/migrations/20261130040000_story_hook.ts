import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
// The story's one-line hook (shown under the title as the card's dek); optional, so existing rows keep null.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE stories ADD COLUMN hook text`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE stories DROP COLUMN hook`.execute(db);
}
