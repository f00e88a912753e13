import { type RawBuilder, sql } from 'kysely';
import type { Db, EventClass } from '../db/database.ts';

/**
 * The rollups of opens and clicks (tables created by migration 20261130070000):
 * - event_reader_counts: events per issue × subscriber × kind × class ('any' = human events of either kind);
 * - event_link_readers: human clicks per issue × link × subscriber;
 * - issue_event_rollups: events and distinct subscribers per issue × segment set × kind × class;
 * - issue_link_rollups: clicks per issue × link × class, distinct human clickers.
 * They change only with the events themselves, in the same statement: a batch written, a batch
 * reclassified. Dropping an old partition of tracking_events leaves them as they are.
 */

/**
 * One statement that runs `changes` (a query, typically a data-modifying INSERT … RETURNING, yielding
 * issue_id, subscriber_id, kind, class, link_position, delta; `before` holds CTEs it reads from) and applies it to every rollup
 * set-based: per-subscriber counts first, then the counts of people whose count left or reached zero.
 * Rows are upserted in key order so concurrent batches lock counters in the same order.
 */
export function withRollups(
  changes: RawBuilder<unknown>,
  before?: RawBuilder<unknown>,
): RawBuilder<{ changed: string }> {
  return sql<{ changed: string }>`
    WITH ${before ? sql`${before},` : sql``} changes AS (${changes}),
    reader_delta AS (
      SELECT issue_id, subscriber_id, kind, class, sum(delta)::int AS delta FROM (
        SELECT issue_id, subscriber_id, kind, class, delta FROM changes
        UNION ALL
        SELECT issue_id, subscriber_id, 'any', class, delta FROM changes WHERE class = 'human'
      ) c
      GROUP BY 1, 2, 3, 4 HAVING sum(delta) <> 0
    ),
    readers AS (
      INSERT INTO event_reader_counts AS r (issue_id, subscriber_id, kind, class, events)
      SELECT issue_id, subscriber_id, kind, class, delta FROM reader_delta ORDER BY 1, 2, 3, 4
      ON CONFLICT (issue_id, subscriber_id, kind, class) DO UPDATE SET events = r.events + excluded.events
      RETURNING r.issue_id, r.subscriber_id, r.kind, r.class, r.events
    ),
    segment_delta AS (
      SELECT rd.issue_id, coalesce(d.segment_key, '') AS segment_key, rd.kind, rd.class,
        sum(rd.delta) AS events,
        sum(CASE WHEN r.events > 0 AND r.events - rd.delta <= 0 THEN 1
                 WHEN r.events <= 0 AND r.events - rd.delta > 0 THEN -1 ELSE 0 END) AS readers
      FROM reader_delta rd
      JOIN readers r ON r.issue_id = rd.issue_id AND r.subscriber_id = rd.subscriber_id
        AND r.kind = rd.kind AND r.class = rd.class
      LEFT JOIN deliveries d ON d.issue_id = rd.issue_id AND d.subscriber_id = rd.subscriber_id
      GROUP BY 1, 2, 3, 4
    ),
    segments AS (
      INSERT INTO issue_event_rollups AS s (issue_id, segment_key, kind, class, events, readers)
      SELECT issue_id, segment_key, kind, class, events, readers FROM segment_delta ORDER BY 1, 2, 3, 4
      ON CONFLICT (issue_id, segment_key, kind, class)
        DO UPDATE SET events = s.events + excluded.events, readers = s.readers + excluded.readers
    ),
    link_reader_delta AS (
      SELECT issue_id, link_position, subscriber_id, sum(delta)::int AS delta FROM changes
      WHERE kind = 'click' AND class = 'human' AND link_position IS NOT NULL
      GROUP BY 1, 2, 3 HAVING sum(delta) <> 0
    ),
    link_readers AS (
      INSERT INTO event_link_readers AS r (issue_id, link_position, subscriber_id, clicks)
      SELECT issue_id, link_position, subscriber_id, delta FROM link_reader_delta ORDER BY 1, 2, 3
      ON CONFLICT (issue_id, link_position, subscriber_id) DO UPDATE SET clicks = r.clicks + excluded.clicks
      RETURNING r.issue_id, r.link_position, r.subscriber_id, r.clicks
    ),
    link_delta AS (
      SELECT issue_id, link_position, class, sum(delta) AS clicks, 0 AS readers FROM changes
      WHERE kind = 'click' AND link_position IS NOT NULL GROUP BY 1, 2, 3
      UNION ALL
      SELECT ld.issue_id, ld.link_position, 'human', 0,
        sum(CASE WHEN r.clicks > 0 AND r.clicks - ld.delta <= 0 THEN 1
                 WHEN r.clicks <= 0 AND r.clicks - ld.delta > 0 THEN -1 ELSE 0 END)
      FROM link_reader_delta ld
      JOIN link_readers r ON r.issue_id = ld.issue_id AND r.link_position = ld.link_position
        AND r.subscriber_id = ld.subscriber_id
      GROUP BY 1, 2
    ),
    links AS (
      INSERT INTO issue_link_rollups AS l (issue_id, link_position, class, clicks, readers)
      SELECT issue_id, link_position, class, sum(clicks), sum(readers) FROM link_delta
      GROUP BY 1, 2, 3 HAVING sum(clicks) <> 0 OR sum(readers) <> 0 ORDER BY 1, 2, 3
      ON CONFLICT (issue_id, link_position, class)
        DO UPDATE SET clicks = l.clicks + excluded.clicks, readers = l.readers + excluded.readers
    )
    SELECT count(*) AS changed FROM changes`;
}

/** An already classified event, as tests, imports and benchmarks store it. */
export interface ClassifiedEvent {
  kind: 'open' | 'click';
  issue_id: number;
  subscriber_id: string;
  class: EventClass;
  link_position?: number | null;
  reason?: string | null;
  occurred_at?: Date | string;
}

/** Stores classified events and rolls them up, in one statement. Returns how many were stored. */
export async function insertTrackingEvents(db: Db, events: readonly ClassifiedEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const column = <T>(pick: (event: ClassifiedEvent) => T) => sql.val(events.map(pick));
  const { rows } = await withRollups(sql`
    INSERT INTO tracking_events (kind, issue_id, subscriber_id, link_position, class, reason, occurred_at)
    SELECT kind, issue_id, subscriber_id, link_position, class, reason, coalesce(occurred_at, now())
    FROM unnest(
      ${column((e) => e.kind)}::text[], ${column((e) => e.issue_id)}::int[], ${column((e) => e.subscriber_id)}::bigint[],
      ${column((e) => e.link_position ?? null)}::int[], ${column((e) => e.class)}::text[],
      ${column((e) => e.reason ?? null)}::text[],
      ${column((e) => (e.occurred_at instanceof Date ? e.occurred_at.toISOString() : (e.occurred_at ?? null)))}::timestamptz[]
    ) AS e(kind, issue_id, subscriber_id, link_position, class, reason, occurred_at)
    RETURNING issue_id, subscriber_id, kind, class, link_position, 1 AS delta`).execute(db);
  return Number(rows[0]?.changed ?? 0);
}

/** Which stored events a reclassification applies to. */
export interface ReclassifyFilter {
  kind: 'open' | 'click';
  /** Only events at or after this time (keeps the scan to recent partitions). */
  since: Date;
  /** Pairs of issue and subscriber whose events change. */
  readers: ReadonlyArray<{ issueId: number; subscriberId: string }>;
}

/**
 * Gives the matching events (not already of class `to.class`) a new class and reason, and moves their
 * counts between classes in every rollup, in one statement. Returns how many events changed.
 */
export async function reclassifyEvents(
  db: Db,
  filter: ReclassifyFilter,
  to: { class: EventClass; reason: string },
): Promise<number> {
  if (filter.readers.length === 0) return 0;
  const pairs = [...new Map(filter.readers.map((r) => [`${r.issueId}:${r.subscriberId}`, r])).values()];
  const issues = pairs.map((r) => r.issueId);
  const subscribers = pairs.map((r) => r.subscriberId);
  const { rows } = await withRollups(
    sql`
    SELECT issue_id, subscriber_id, kind, old_class AS class, link_position, -1 AS delta FROM changed
    UNION ALL
    SELECT issue_id, subscriber_id, kind, ${to.class}::text, link_position, 1 FROM changed`,
    // Data-modifying statements must sit at the top level of the WITH: they go before `changes`.
    sql`
    target AS (
      SELECT e.id, e.occurred_at, e.class AS old_class FROM tracking_events e
      JOIN unnest(${issues}::int[], ${subscribers}::bigint[]) AS p(issue_id, subscriber_id)
        ON e.issue_id = p.issue_id AND e.subscriber_id = p.subscriber_id
      WHERE e.kind = ${filter.kind} AND e.class <> ${to.class} AND e.occurred_at >= ${filter.since.toISOString()}::timestamptz
      FOR UPDATE OF e
    ), changed AS (
      UPDATE tracking_events e SET class = ${to.class}, reason = ${to.reason}
      FROM target t WHERE e.id = t.id AND e.occurred_at = t.occurred_at
      RETURNING e.issue_id, e.subscriber_id, e.kind, e.link_position, t.old_class
    )`,
  ).execute(db);
  return Number(rows[0]?.changed ?? 0) / 2;
}

/**
 * Recomputes the event rollups (of one issue, or of all) from the raw events still stored. For data
 * loaded around the event writer (benchmarks, repairs) when every event is still there: rollups of
 * events in dropped partitions would be lost. Runs in one transaction.
 */
export async function rebuildEventRollups(db: Db, issueId?: number): Promise<void> {
  const only = (column: string) => (issueId === undefined ? sql`true` : sql`${sql.ref(column)} = ${issueId}`);
  await db.transaction().execute(async (trx) => {
    for (const table of [
      'event_reader_counts',
      'event_link_readers',
      'issue_event_rollups',
      'issue_link_rollups',
    ])
      await sql`DELETE FROM ${sql.table(table)} WHERE ${only('issue_id')}`.execute(trx);
    await sql`
      INSERT INTO event_reader_counts (issue_id, subscriber_id, kind, class, events)
      SELECT issue_id, subscriber_id, kind, class, count(*) FROM tracking_events WHERE ${only('issue_id')} GROUP BY 1, 2, 3, 4
      UNION ALL
      SELECT issue_id, subscriber_id, 'any', 'human', count(*) FROM tracking_events
      WHERE class = 'human' AND ${only('issue_id')} GROUP BY 1, 2
    `.execute(trx);
    await sql`
      INSERT INTO event_link_readers (issue_id, link_position, subscriber_id, clicks)
      SELECT issue_id, link_position, subscriber_id, count(*) FROM tracking_events
      WHERE kind = 'click' AND class = 'human' AND link_position IS NOT NULL AND ${only('issue_id')} GROUP BY 1, 2, 3
    `.execute(trx);
    await sql`
      INSERT INTO issue_event_rollups (issue_id, segment_key, kind, class, events, readers)
      SELECT r.issue_id, coalesce(d.segment_key, ''), r.kind, r.class, sum(r.events), count(*)
      FROM event_reader_counts r
      LEFT JOIN deliveries d ON d.issue_id = r.issue_id AND d.subscriber_id = r.subscriber_id
      WHERE ${only('r.issue_id')}
      GROUP BY 1, 2, 3, 4
    `.execute(trx);
    await sql`
      INSERT INTO issue_link_rollups (issue_id, link_position, class, clicks, readers)
      SELECT issue_id, link_position, class, count(*),
        CASE WHEN class = 'human' THEN count(DISTINCT subscriber_id) ELSE 0 END
      FROM tracking_events WHERE kind = 'click' AND link_position IS NOT NULL AND ${only('issue_id')}
      GROUP BY 1, 2, 3
    `.execute(trx);
  });
}
