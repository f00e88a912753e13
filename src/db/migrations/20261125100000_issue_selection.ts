import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
// An issue keeps the explanation of its last build (the report shown by `issue show` and the preview),
// and each item remembers the same-event cluster it represents so an edition never shows one event twice.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE issues ADD COLUMN selection_report jsonb;
    ALTER TABLE issue_items ADD COLUMN cluster_id text;
    CREATE INDEX issue_overrides_week ON issue_overrides (week);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP INDEX issue_overrides_week;
    ALTER TABLE issue_items DROP COLUMN cluster_id;
    ALTER TABLE issues DROP COLUMN selection_report;
  `.execute(db);
}
