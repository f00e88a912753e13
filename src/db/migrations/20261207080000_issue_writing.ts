import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
//
// What the editor writes for a week's issue: a note shown above the first section of every edition,
// and a subject and preheader that replace the computed ones for every segment set. One row per week
// (as the overrides, keyed by week, so a note may be written before the first build). Part of the
// frozen snapshot once the issue is approved.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE issue_writing (
      week text PRIMARY KEY,
      note text CHECK (note IS NULL OR char_length(note) BETWEEN 1 AND 2000),
      subject text CHECK (subject IS NULL OR char_length(subject) BETWEEN 1 AND 200),
      preheader text CHECK (preheader IS NULL OR char_length(preheader) BETWEEN 1 AND 300),
      updated_at timestamptz NOT NULL DEFAULT now(),
      updated_by text CHECK (updated_by IN ('editor', 'cli'))
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE issue_writing;`.execute(db);
}
