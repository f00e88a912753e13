import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
//
// The editor's Readers page: a search by any part of the address or the name, served by a trigram GIN
// index (pg_trgm; the embedded database loads the same extension), keyset pages in id order (the
// primary key), a reader's deliveries by subscriber, and the CSV imports the editor starts, with their
// progress. Building the trigram index reads the whole list once (about a minute per million readers).
// lower() and LIKE rather than ILIKE: the same matches, and the recheck of each row costs half.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE EXTENSION IF NOT EXISTS pg_trgm`.execute(db);
  await sql`
    CREATE INDEX subscribers_search ON subscribers
      USING gin (lower(email || ' ' || coalesce(name, '')) gin_trgm_ops);
    CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id);

    CREATE TABLE reader_imports (
      id bigserial PRIMARY KEY,
      file_name text NOT NULL,
      status text NOT NULL DEFAULT 'reading' CHECK (status IN ('reading', 'writing', 'done', 'refused', 'failed')),
      skip_invalid boolean NOT NULL DEFAULT false,
      bytes_total bigint NOT NULL,
      bytes_read bigint NOT NULL DEFAULT 0,
      rows_read integer NOT NULL DEFAULT 0,
      report jsonb,
      started_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE reader_imports;
    DROP INDEX deliveries_subscriber;
    DROP INDEX subscribers_search;
  `.execute(db);
}
