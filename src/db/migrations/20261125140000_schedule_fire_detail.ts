import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
// A fire row becomes the record of what the schedule decided for one slot: which week, why, and a
// heartbeat so a crashed run's slot can be taken over.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE schedule_fires
      ADD COLUMN week text,
      ADD COLUMN detail text,
      ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE schedule_fires DROP COLUMN week, DROP COLUMN detail, DROP COLUMN updated_at;`.execute(
    db,
  );
}
