import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
//
// Each running sending worker (`recap worker`, `recap send`, serve's in-process worker) says it is alive
// every few seconds: the editor shows who is sending, and serve starts a worker of its own for a send
// it started only when no other one is alive.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE worker_heartbeats (
      worker_id text PRIMARY KEY,
      kind text NOT NULL CHECK (kind IN ('worker', 'send', 'serve')),
      host text NOT NULL,
      pid integer NOT NULL,
      issue_id integer REFERENCES issues (id) ON DELETE SET NULL,
      started_at timestamptz NOT NULL DEFAULT now(),
      seen_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX worker_heartbeats_seen_at ON worker_heartbeats (seen_at);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE worker_heartbeats;`.execute(db);
}
