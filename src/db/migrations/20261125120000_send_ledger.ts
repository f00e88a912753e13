import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- One row per second of wall time (database clock): how many messages all workers together may
    -- still send in it. The global SEND_RATE is enforced by workers reserving tokens here.
    CREATE TABLE send_rate_slots (
      slot bigint PRIMARY KEY,
      used integer NOT NULL DEFAULT 0 CHECK (used >= 0),
      last_grant integer NOT NULL DEFAULT 0
    );

    ALTER TABLE deliveries
      ADD COLUMN failure_kind text CHECK (failure_kind IN ('transient', 'permanent', 'policy', 'fatal')),
      ADD COLUMN smtp_code text,
      ADD COLUMN last_attempt_at timestamptz;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE deliveries DROP COLUMN failure_kind, DROP COLUMN smtp_code, DROP COLUMN last_attempt_at;
    DROP TABLE send_rate_slots;
  `.execute(db);
}
