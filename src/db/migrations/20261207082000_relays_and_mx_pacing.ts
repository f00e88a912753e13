import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
//
// Several relays (SMTP_URLS): messages sent per issue and relay, counted by each worker in the statement
// that records its results (one row per issue, relay and worker, so workers never wait on each other's
// row), read by `recap send status` and the editor without scanning the deliveries.
//
// Pacing by mailbox provider (mx: keys of SEND_DOMAIN_LIMITS): the MX host of each recipient domain of
// a send, resolved once when the send's first worker starts, so every worker paces by the same keys.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE issue_relay_counts (
      issue_id integer NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
      relay text NOT NULL,
      worker_id text NOT NULL,
      sent bigint NOT NULL DEFAULT 0,
      PRIMARY KEY (issue_id, relay, worker_id)
    );
    CREATE TABLE send_mx_resolutions (
      issue_id integer PRIMARY KEY REFERENCES issues (id) ON DELETE CASCADE,
      started_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz,
      domains integer,
      resolved integer
    );
    CREATE TABLE send_mx_hosts (
      issue_id integer NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
      domain text NOT NULL,
      mx_host text NOT NULL,
      PRIMARY KEY (issue_id, domain)
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE send_mx_hosts;
    DROP TABLE send_mx_resolutions;
    DROP TABLE issue_relay_counts;
  `.execute(db);
}
