import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
//
// Readers steer the recap. story_votes: one "more like this" (+1) or "less like this" (-1) per reader and
// story (changeable; the issue it was cast from is kept). issue_ratings: one rating (1 poor, 2 fine,
// 3 great) per reader and issue. deliveries.story_order: the reader's own order of the movable (compact,
// unpinned) stories of their edition, decided when the audience is frozen (null: the editorial order);
// deliveries.order_group: 'personal' (eligible for a personal order) or 'holdout' (kept on the editorial
// order to measure the difference); null when personal order is off or the reader is untracked.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE story_votes (
      subscriber_id bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
      story_id text NOT NULL,
      issue_id integer NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
      vote smallint NOT NULL CHECK (vote IN (-1, 1)),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (subscriber_id, story_id)
    );
    CREATE INDEX story_votes_issue ON story_votes (issue_id);
    CREATE TABLE issue_ratings (
      issue_id integer NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
      subscriber_id bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
      rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 3),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (issue_id, subscriber_id)
    );
    ALTER TABLE deliveries
      ADD COLUMN story_order text[],
      ADD COLUMN order_group text CHECK (order_group IN ('personal', 'holdout'));
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE deliveries DROP COLUMN story_order, DROP COLUMN order_group;
    DROP TABLE issue_ratings;
    DROP TABLE story_votes;
  `.execute(db);
}
