import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- Whether a delivery carried the open pixel and tracked links, fixed when the audience is frozen:
    -- rates are computed over tracked deliveries, so a reader changing their choice later moves nothing.
    ALTER TABLE deliveries ADD COLUMN tracked boolean NOT NULL DEFAULT true;

    -- 'sunset': paused for inactivity (kept, never mailed until they say so);
    -- 'erased': an anonymous placeholder keeping an erased person's past delivery rows countable.
    ALTER TABLE subscribers DROP CONSTRAINT IF EXISTS subscribers_status_check;
    ALTER TABLE subscribers ADD CONSTRAINT subscribers_status_check
      CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced', 'complained', 'sunset', 'erased'));
    -- When the one "still want the recap?" mail went out; null when none is waiting for an answer.
    ALTER TABLE subscribers ADD COLUMN reengagement_sent_at timestamptz;
    -- Inactivity is counted over deliveries after this moment (set when a reader asks to keep the recap).
    ALTER TABLE subscribers ADD COLUMN inactivity_counted_from timestamptz;
    -- When the reader was paused for inactivity.
    ALTER TABLE subscribers ADD COLUMN sunset_at timestamptz;

    -- Addresses erased on request, kept only as a SHA-256 hash of the normalised address so a later
    -- import or sign-up cannot bring them back.
    CREATE TABLE erased_addresses (
      hash text PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'),
      erased_at timestamptz NOT NULL DEFAULT now()
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE erased_addresses;
    DELETE FROM subscribers WHERE status = 'erased';
    UPDATE subscribers SET status = 'active' WHERE status = 'sunset';
    ALTER TABLE subscribers DROP CONSTRAINT subscribers_status_check;
    ALTER TABLE subscribers ADD CONSTRAINT subscribers_status_check
      CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced', 'complained'));
    ALTER TABLE subscribers DROP COLUMN reengagement_sent_at, DROP COLUMN inactivity_counted_from,
      DROP COLUMN sunset_at;
    ALTER TABLE deliveries DROP COLUMN tracked;
  `.execute(db);
}
