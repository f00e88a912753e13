import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE stories (
      id text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
      title text NOT NULL CHECK (length(title) > 0),
      url text NOT NULL CHECK (url ~ '^https?://'),
      canonical_url text NOT NULL,
      source_name text NOT NULL,
      source_url text CHECK (source_url IS NULL OR source_url ~ '^https?://'),
      region text,
      published_at timestamptz,
      collected_at timestamptz,
      tldr_what_changed text,
      tldr_why_it_matters text,
      tldr_what_to_do_next text,
      related jsonb NOT NULL DEFAULT '[]',
      imported_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK (published_at IS NOT NULL OR collected_at IS NOT NULL)
    );
    CREATE INDEX stories_week_time ON stories ((coalesce(published_at, collected_at)));

    CREATE TABLE story_takeaways (
      story_id text NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
      position integer NOT NULL,
      text text NOT NULL,
      PRIMARY KEY (story_id, position)
    );
    CREATE TABLE story_implications (
      story_id text NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
      position integer NOT NULL,
      prediction text NOT NULL,
      rationale text,
      PRIMARY KEY (story_id, position)
    );
    CREATE TABLE story_timeline_events (
      story_id text NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
      position integer NOT NULL,
      date text NOT NULL,
      event text NOT NULL,
      PRIMARY KEY (story_id, position)
    );

    CREATE TABLE segments (
      id serial PRIMARY KEY,
      name text NOT NULL UNIQUE CHECK (length(name) > 0),
      slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$')
    );
    CREATE TABLE story_segments (
      story_id text NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
      segment_id integer NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
      PRIMARY KEY (story_id, segment_id)
    );
    CREATE INDEX story_segments_segment ON story_segments (segment_id);

    CREATE TABLE subscribers (
      id bigserial PRIMARY KEY,
      email text NOT NULL UNIQUE CHECK (email = lower(email) AND email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
      name text,
      time_zone text,
      status text NOT NULL DEFAULT 'active'
        CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced', 'complained')),
      tracking_enabled boolean NOT NULL DEFAULT true,
      paused_until timestamptz,
      soft_bounce_count integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      confirmed_at timestamptz,
      unsubscribed_at timestamptz
    );
    CREATE INDEX subscribers_active ON subscribers (id) WHERE status = 'active';

    CREATE TABLE subscriptions (
      subscriber_id bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
      segment_id integer NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (subscriber_id, segment_id)
    );
    CREATE INDEX subscriptions_segment ON subscriptions (segment_id);

    CREATE TABLE issues (
      id serial PRIMARY KEY,
      week text NOT NULL UNIQUE CHECK (week ~ '^[0-9]{4}-W(0[1-9]|[1-4][0-9]|5[0-3])$'),
      status text NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'approved', 'scheduled', 'sending', 'paused', 'cancelled', 'sent')),
      created_at timestamptz NOT NULL DEFAULT now(),
      built_at timestamptz,
      approved_at timestamptz,
      send_started_at timestamptz,
      send_finished_at timestamptz,
      status_reason text,
      audience_counts jsonb
    );

    CREATE TABLE issue_items (
      issue_id integer NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
      segment_id integer NOT NULL REFERENCES segments (id),
      story_id text NOT NULL REFERENCES stories (id),
      position integer NOT NULL CHECK (position >= 0),
      score double precision NOT NULL,
      fallback boolean NOT NULL DEFAULT false,
      also_covered_by jsonb NOT NULL DEFAULT '[]',
      reasons jsonb NOT NULL DEFAULT '[]',
      score_breakdown jsonb NOT NULL DEFAULT '{}',
      PRIMARY KEY (issue_id, segment_id, story_id),
      UNIQUE (issue_id, segment_id, position)
    );

    CREATE TABLE issue_overrides (
      id serial PRIMARY KEY,
      week text NOT NULL,
      segment_id integer REFERENCES segments (id) ON DELETE CASCADE,
      story_id text NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
      kind text NOT NULL CHECK (kind IN ('pin', 'drop', 'boost')),
      position integer CHECK (position IS NULL OR position >= 0),
      boost double precision,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK (kind <> 'boost' OR boost IS NOT NULL),
      UNIQUE NULLS NOT DISTINCT (week, segment_id, story_id, kind)
    );

    CREATE TABLE issue_links (
      issue_id integer NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
      position integer NOT NULL,
      url text NOT NULL CHECK (url ~ '^https?://'),
      story_id text REFERENCES stories (id),
      kind text NOT NULL DEFAULT 'story',
      PRIMARY KEY (issue_id, position),
      UNIQUE (issue_id, url)
    );

    CREATE TABLE deliveries (
      id bigserial PRIMARY KEY,
      issue_id integer NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
      subscriber_id bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
      segment_key text NOT NULL,
      status text NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'sent', 'failed', 'bounced', 'skipped', 'cancelled')),
      attempts integer NOT NULL DEFAULT 0,
      lease_owner text,
      lease_expires_at timestamptz,
      next_attempt_at timestamptz,
      message_id text NOT NULL,
      last_error text,
      sent_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (issue_id, subscriber_id)
    );
    CREATE INDEX deliveries_queue ON deliveries (issue_id, id) WHERE status = 'queued';

    CREATE TABLE tracking_events (
      id bigserial PRIMARY KEY,
      kind text NOT NULL CHECK (kind IN ('open', 'click')),
      issue_id integer NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
      subscriber_id bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
      link_position integer,
      class text NOT NULL DEFAULT 'unknown' CHECK (class IN ('human', 'machine', 'scanner', 'unknown')),
      method text NOT NULL DEFAULT 'GET',
      ip text,
      user_agent text,
      occurred_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX tracking_events_issue ON tracking_events (issue_id, kind);

    CREATE TABLE consent_log (
      id bigserial PRIMARY KEY,
      subscriber_id bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
      action text NOT NULL,
      occurred_at timestamptz NOT NULL DEFAULT now(),
      ip text,
      user_agent text,
      detail jsonb NOT NULL DEFAULT '{}'
    );
    CREATE INDEX consent_log_subscriber ON consent_log (subscriber_id, occurred_at);

    CREATE TABLE schedule_fires (
      schedule_name text NOT NULL,
      slot timestamptz NOT NULL,
      fired_at timestamptz NOT NULL DEFAULT now(),
      owner text NOT NULL,
      outcome text,
      PRIMARY KEY (schedule_name, slot)
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE schedule_fires, consent_log, tracking_events, deliveries, issue_links, issue_overrides,
      issue_items, issues, subscriptions, subscribers, story_segments, segments, story_timeline_events,
      story_implications, story_takeaways, stories;
  `.execute(db);
}
