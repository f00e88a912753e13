import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
//
// Each open and click carries the id the server gave it when it answered, so an event written twice (a
// batch whose commit was lost with its connection, then replayed from the local spool) is stored once:
// the writer inserts with ON CONFLICT DO NOTHING. A unique index of a partitioned table must hold the
// partition key, hence (event_id, occurred_at): both are fixed when the request is answered. Events
// stored before this change keep a null id (nulls never conflict).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE tracking_events ADD COLUMN event_id uuid;
    CREATE UNIQUE INDEX tracking_events_event_id ON tracking_events (event_id, occurred_at);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP INDEX tracking_events_event_id;
    ALTER TABLE tracking_events DROP COLUMN event_id;
  `.execute(db);
}
