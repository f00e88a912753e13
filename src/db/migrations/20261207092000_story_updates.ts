import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
//
// Updates across weeks. issue_items.update_of: when the item continues a story sent in a recent issue,
// what it continues ({ storyId, issueId, week, title, url, since, newEvents }); null for every other item
// and for items stored before updates existed.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE issue_items ADD COLUMN update_of jsonb`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE issue_items DROP COLUMN update_of`.execute(db);
}
