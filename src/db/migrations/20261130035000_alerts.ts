import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
// One row per alert cause: the insert that wins the primary key is the one process that sends it,
// so an alert goes out once however many workers or schedule processes see the same cause.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE alerts (
      kind text NOT NULL,
      cause text NOT NULL,
      subject text NOT NULL,
      payload jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      delivered_at timestamptz,
      error text,
      PRIMARY KEY (kind, cause)
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE alerts;`.execute(db);
}
