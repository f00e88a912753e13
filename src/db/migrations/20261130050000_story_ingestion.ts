import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
// Stories arrive by themselves (API push, feed pull): a content hash tells an unchanged record from an
// updated one, a retraction withdraws a story without deleting what was sent; each pulled source keeps
// its HTTP validators and last outcome, every import leaves a run row; an issue's content is frozen as
// a snapshot when it is approved (or its send starts).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE stories
      ADD COLUMN content_hash text,
      ADD COLUMN retracted_at timestamptz;

    ALTER TABLE issues ADD COLUMN content_snapshot jsonb;

    CREATE TABLE ingest_sources (
      url text PRIMARY KEY,
      etag text,
      last_modified text,
      last_pull_at timestamptz,
      last_status text,
      last_detail text,
      last_success_at timestamptz,
      imported integer NOT NULL DEFAULT 0,
      updated integer NOT NULL DEFAULT 0,
      unchanged integer NOT NULL DEFAULT 0,
      retracted integer NOT NULL DEFAULT 0,
      invalid integer NOT NULL DEFAULT 0
    );

    CREATE TABLE ingest_runs (
      id bigserial PRIMARY KEY,
      kind text NOT NULL CHECK (kind IN ('api', 'pull', 'file')),
      source text NOT NULL,
      started_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz NOT NULL DEFAULT now(),
      status text NOT NULL,
      imported integer NOT NULL DEFAULT 0,
      updated integer NOT NULL DEFAULT 0,
      unchanged integer NOT NULL DEFAULT 0,
      retracted integer NOT NULL DEFAULT 0,
      invalid integer NOT NULL DEFAULT 0,
      bytes bigint NOT NULL DEFAULT 0,
      detail text
    );
    CREATE INDEX ingest_runs_kind ON ingest_runs (kind, id);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE ingest_runs, ingest_sources;
    ALTER TABLE issues DROP COLUMN content_snapshot;
    ALTER TABLE stories DROP COLUMN content_hash, DROP COLUMN retracted_at;
  `.execute(db);
}
