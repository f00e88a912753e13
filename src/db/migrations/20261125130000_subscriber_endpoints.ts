import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- Why an open or click got its class (e.g. 'apple-proxy', 'head-request', 'within-5s-of-delivery').
    ALTER TABLE tracking_events ADD COLUMN reason text;
    -- Soft bounces count once per issue, and only on consecutive issues.
    ALTER TABLE subscribers ADD COLUMN last_soft_bounce_issue_id integer;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE tracking_events DROP COLUMN reason;
    ALTER TABLE subscribers DROP COLUMN last_soft_bounce_issue_id;
  `.execute(db);
}
