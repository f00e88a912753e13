import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
//
// Subject-line tests. issue_subject_variants: up to two more subject/preheader variants (B, C) of a week's
// issue, written by the editor beside the override of issue_writing (variant A) and frozen with it in the
// snapshot. subject_tests: one row per issue sent with variants: the salt of its split, the share and when
// the winner is decided, then the decision, its reason and the figures it read. deliveries.subject_group:
// the reader's group in the test ('A', 'B', 'C', or 'held' for the rest); subject_variant: the variant the
// message carries (null while held: such a row is not claimed until the decision fills it).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE issue_subject_variants (
      week text NOT NULL,
      variant text NOT NULL CHECK (variant IN ('B', 'C')),
      subject text NOT NULL CHECK (char_length(subject) BETWEEN 1 AND 200),
      preheader text CHECK (preheader IS NULL OR char_length(preheader) BETWEEN 1 AND 300),
      updated_at timestamptz NOT NULL DEFAULT now(),
      updated_by text CHECK (updated_by IN ('editor', 'cli')),
      PRIMARY KEY (week, variant)
    );
    CREATE TABLE subject_tests (
      issue_id integer PRIMARY KEY REFERENCES issues (id) ON DELETE CASCADE,
      variants text[] NOT NULL,
      salt text NOT NULL,
      share double precision NOT NULL CHECK (share > 0 AND share <= 1),
      started_at timestamptz NOT NULL DEFAULT now(),
      decide_at timestamptz NOT NULL,
      decided_at timestamptz,
      winner text CHECK (winner IN ('A', 'B', 'C')),
      reason text,
      figures jsonb
    );
    ALTER TABLE deliveries
      ADD COLUMN subject_group text CHECK (subject_group IN ('A', 'B', 'C', 'held')),
      ADD COLUMN subject_variant text CHECK (subject_variant IN ('A', 'B', 'C'));
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE deliveries DROP COLUMN subject_group, DROP COLUMN subject_variant;
    DROP TABLE subject_tests;
    DROP TABLE issue_subject_variants;
  `.execute(db);
}
