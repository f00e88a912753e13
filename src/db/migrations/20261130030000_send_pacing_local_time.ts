import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- Local-time delivery: a row is not claimed before this instant (NULL: at once).
    ALTER TABLE deliveries ADD COLUMN not_before timestamptz;
    -- Claims of a local-time rollout skip rows still waiting without reading them; only rows with a time
    -- are in it, so a send without local time pays nothing.
    CREATE INDEX deliveries_waiting ON deliveries (issue_id, not_before, id)
      WHERE status = 'queued' AND not_before IS NOT NULL;

    -- The deliverability guard judges bounces and complaints since this instant (the start or last resume).
    ALTER TABLE issues ADD COLUMN guard_since timestamptz;

    -- Per recipient domain, one row per second of database time: tokens all workers together take from.
    CREATE TABLE send_domain_slots (
      domain text NOT NULL,
      slot bigint NOT NULL,
      used integer NOT NULL DEFAULT 0 CHECK (used >= 0),
      last_grant integer NOT NULL DEFAULT 0,
      PRIMARY KEY (domain, slot)
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE send_domain_slots;
    ALTER TABLE issues DROP COLUMN guard_since;
    DROP INDEX deliveries_waiting;
    ALTER TABLE deliveries DROP COLUMN not_before;
  `.execute(db);
}
