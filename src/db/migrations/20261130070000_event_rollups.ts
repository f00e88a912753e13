import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
//
// Analytics that stay fast: tracking_events becomes partitioned by month (whole months are dropped by
// retention), and the numbers the reports show are kept in rollup tables written with the events
// (event writer) and by statement-level triggers on deliveries. Existing events are moved into the
// partitions and every rollup is backfilled from them.
export async function up(db: Kysely<any>): Promise<void> {
  // Another change may add the same column; whichever runs second is a no-op.
  await sql`ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS tracked boolean NOT NULL DEFAULT true`.execute(
    db,
  );

  await sql`
    ALTER SEQUENCE tracking_events_id_seq OWNED BY NONE;
    ALTER TABLE tracking_events RENAME TO tracking_events_unpartitioned;
    ALTER INDEX tracking_events_pkey RENAME TO tracking_events_unpartitioned_pkey;
    ALTER INDEX tracking_events_issue RENAME TO tracking_events_unpartitioned_issue;

    CREATE TABLE tracking_events (
      id bigint NOT NULL DEFAULT nextval('tracking_events_id_seq'),
      kind text NOT NULL CHECK (kind IN ('open', 'click')),
      issue_id integer NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
      subscriber_id bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
      link_position integer,
      class text NOT NULL DEFAULT 'unknown' CHECK (class IN ('human', 'machine', 'scanner', 'unknown')),
      method text NOT NULL DEFAULT 'GET',
      ip text,
      user_agent text,
      occurred_at timestamptz NOT NULL DEFAULT now(),
      reason text,
      PRIMARY KEY (id, occurred_at)
    ) PARTITION BY RANGE (occurred_at);
    ALTER SEQUENCE tracking_events_id_seq OWNED BY tracking_events.id;
    CREATE INDEX tracking_events_issue ON tracking_events (issue_id, kind);
    -- Whatever falls outside every monthly partition lands here: no insert ever fails for want of one.
    CREATE TABLE tracking_events_default PARTITION OF tracking_events DEFAULT;
  `.execute(db);

  // A partition per month holding events, and for this month and the next two (UTC months).
  const months = await sql<{ month: string }>`
    SELECT DISTINCT to_char(m, 'YYYY-MM') AS month FROM (
      SELECT date_trunc('month', occurred_at AT TIME ZONE 'UTC') AS m FROM tracking_events_unpartitioned
      UNION
      SELECT date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => n) FROM generate_series(0, 2) n
    ) months ORDER BY 1
  `.execute(db);
  for (const { month } of months.rows) {
    const [year, mon] = month.split('-').map(Number) as [number, number];
    const next = mon === 12 ? `${year + 1}-01` : `${year}-${String(mon + 1).padStart(2, '0')}`;
    await sql
      .raw(
        `CREATE TABLE tracking_events_p${month.replace('-', '')} PARTITION OF tracking_events
         FOR VALUES FROM ('${month}-01 00:00:00+00') TO ('${next}-01 00:00:00+00')`,
      )
      .execute(db);
  }
  await sql`
    INSERT INTO tracking_events (id, kind, issue_id, subscriber_id, link_position, class, method, ip, user_agent, occurred_at, reason)
    SELECT id, kind, issue_id, subscriber_id, link_position, class, method, ip, user_agent, occurred_at, reason
    FROM tracking_events_unpartitioned;
    DROP TABLE tracking_events_unpartitioned;
  `.execute(db);

  await sql`
    -- Per issue × subscriber × kind × class: how many events. 'any' counts a subscriber's human opens and
    -- clicks together (unique human readers). A row going from 0 to more (or back) moves the readers
    -- count of issue_event_rollups by one, so distinct people are counted without scanning.
    CREATE TABLE event_reader_counts (
      issue_id integer NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
      subscriber_id bigint NOT NULL,
      kind text NOT NULL CHECK (kind IN ('open', 'click', 'any')),
      class text NOT NULL,
      events integer NOT NULL,
      PRIMARY KEY (issue_id, subscriber_id, kind, class)
    );
    -- Human clicks per issue × link × subscriber: the distinct human clickers of each link.
    CREATE TABLE event_link_readers (
      issue_id integer NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
      link_position integer NOT NULL,
      subscriber_id bigint NOT NULL,
      clicks integer NOT NULL,
      PRIMARY KEY (issue_id, link_position, subscriber_id)
    );
    -- Per issue × segment set × kind × class: events and distinct subscribers ('' = no delivery found).
    CREATE TABLE issue_event_rollups (
      issue_id integer NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
      segment_key text NOT NULL,
      kind text NOT NULL,
      class text NOT NULL,
      events bigint NOT NULL,
      readers bigint NOT NULL,
      PRIMARY KEY (issue_id, segment_key, kind, class)
    );
    -- Per issue × link × class: clicks, and distinct clickers (kept for human clicks; 0 for the others).
    CREATE TABLE issue_link_rollups (
      issue_id integer NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
      link_position integer NOT NULL,
      class text NOT NULL,
      clicks bigint NOT NULL,
      readers bigint NOT NULL,
      PRIMARY KEY (issue_id, link_position, class)
    );
    -- Deliveries per issue × segment set × status × tracked, kept by triggers on deliveries. Each
    -- database session adds to its own rows (backend = its process id; 0 = backfilled or compacted),
    -- so concurrent send workers never wait on one another's counter rows; readers sum them.
    CREATE TABLE issue_delivery_rollups (
      issue_id integer NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
      segment_key text NOT NULL,
      status text NOT NULL,
      tracked boolean NOT NULL,
      backend integer NOT NULL DEFAULT pg_backend_pid(),
      deliveries bigint NOT NULL,
      PRIMARY KEY (issue_id, segment_key, status, tracked, backend)
    );

    -- Unsubscribes and complaints are attributed to issues when reports are read: find them without
    -- reading every sign-up record.
    CREATE INDEX consent_log_opt_outs ON consent_log (occurred_at) WHERE action IN ('unsubscribe', 'complaint');

    CREATE FUNCTION roll_up_deliveries() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO issue_delivery_rollups AS r (issue_id, segment_key, status, tracked, deliveries)
        SELECT issue_id, segment_key, status, tracked, count(*) FROM new_rows
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (issue_id, segment_key, status, tracked, backend)
          DO UPDATE SET deliveries = r.deliveries + excluded.deliveries;
      ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO issue_delivery_rollups AS r (issue_id, segment_key, status, tracked, deliveries)
        SELECT issue_id, segment_key, status, tracked, sum(n) FROM (
          SELECT issue_id, segment_key, status, tracked, 1 AS n FROM new_rows
          UNION ALL
          SELECT issue_id, segment_key, status, tracked, -1 FROM old_rows
        ) changes
        -- An issue being deleted takes its rollups with it.
        WHERE EXISTS (SELECT 1 FROM issues i WHERE i.id = changes.issue_id)
        GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 ORDER BY 1, 2, 3, 4
        ON CONFLICT (issue_id, segment_key, status, tracked, backend)
          DO UPDATE SET deliveries = r.deliveries + excluded.deliveries;
      ELSE
        INSERT INTO issue_delivery_rollups AS r (issue_id, segment_key, status, tracked, deliveries)
        SELECT issue_id, segment_key, status, tracked, -count(*) FROM old_rows
        WHERE EXISTS (SELECT 1 FROM issues i WHERE i.id = old_rows.issue_id)
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (issue_id, segment_key, status, tracked, backend)
          DO UPDATE SET deliveries = r.deliveries + excluded.deliveries;
      END IF;
      RETURN NULL;
    END
    $fn$;
    CREATE TRIGGER deliveries_roll_up_insert AFTER INSERT ON deliveries
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION roll_up_deliveries();
    CREATE TRIGGER deliveries_roll_up_update AFTER UPDATE ON deliveries
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION roll_up_deliveries();
    CREATE TRIGGER deliveries_roll_up_delete AFTER DELETE ON deliveries
      REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION roll_up_deliveries();

    INSERT INTO issue_delivery_rollups (issue_id, segment_key, status, tracked, backend, deliveries)
    SELECT issue_id, segment_key, status, tracked, 0, count(*) FROM deliveries GROUP BY 1, 2, 3, 4;

    INSERT INTO event_reader_counts (issue_id, subscriber_id, kind, class, events)
    SELECT issue_id, subscriber_id, kind, class, count(*) FROM tracking_events GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT issue_id, subscriber_id, 'any', 'human', count(*) FROM tracking_events WHERE class = 'human' GROUP BY 1, 2;

    INSERT INTO event_link_readers (issue_id, link_position, subscriber_id, clicks)
    SELECT issue_id, link_position, subscriber_id, count(*) FROM tracking_events
    WHERE kind = 'click' AND class = 'human' AND link_position IS NOT NULL GROUP BY 1, 2, 3;

    INSERT INTO issue_event_rollups (issue_id, segment_key, kind, class, events, readers)
    SELECT r.issue_id, coalesce(d.segment_key, ''), r.kind, r.class, sum(r.events), count(*)
    FROM event_reader_counts r
    LEFT JOIN deliveries d ON d.issue_id = r.issue_id AND d.subscriber_id = r.subscriber_id
    GROUP BY 1, 2, 3, 4;

    INSERT INTO issue_link_rollups (issue_id, link_position, class, clicks, readers)
    SELECT issue_id, link_position, class, count(*),
      CASE WHEN class = 'human' THEN count(DISTINCT subscriber_id) ELSE 0 END
    FROM tracking_events WHERE kind = 'click' AND link_position IS NOT NULL GROUP BY 1, 2, 3;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TRIGGER deliveries_roll_up_insert ON deliveries;
    DROP TRIGGER deliveries_roll_up_update ON deliveries;
    DROP TRIGGER deliveries_roll_up_delete ON deliveries;
    DROP FUNCTION roll_up_deliveries();
    DROP INDEX consent_log_opt_outs;
    DROP TABLE issue_delivery_rollups, issue_link_rollups, issue_event_rollups, event_link_readers, event_reader_counts;

    ALTER SEQUENCE tracking_events_id_seq OWNED BY NONE;
    ALTER TABLE tracking_events RENAME TO tracking_events_partitioned;
    ALTER INDEX tracking_events_pkey RENAME TO tracking_events_partitioned_pkey;
    ALTER INDEX tracking_events_issue RENAME TO tracking_events_partitioned_issue;
    CREATE TABLE tracking_events (
      id bigint PRIMARY KEY DEFAULT nextval('tracking_events_id_seq'),
      kind text NOT NULL CHECK (kind IN ('open', 'click')),
      issue_id integer NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
      subscriber_id bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
      link_position integer,
      class text NOT NULL DEFAULT 'unknown' CHECK (class IN ('human', 'machine', 'scanner', 'unknown')),
      method text NOT NULL DEFAULT 'GET',
      ip text,
      user_agent text,
      occurred_at timestamptz NOT NULL DEFAULT now(),
      reason text
    );
    INSERT INTO tracking_events SELECT id, kind, issue_id, subscriber_id, link_position, class, method, ip,
      user_agent, occurred_at, reason FROM tracking_events_partitioned;
    DROP TABLE tracking_events_partitioned;
    ALTER SEQUENCE tracking_events_id_seq OWNED BY tracking_events.id;
    CREATE INDEX tracking_events_issue ON tracking_events (issue_id, kind);
  `.execute(db);
}
