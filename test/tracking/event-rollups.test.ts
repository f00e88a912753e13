import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/database.ts';
import { compactDeliveryRollups } from '../../src/delivery/delivery-rollups.ts';
import { loadIssueStats, loadWeeklySeries } from '../../src/reports/issue-stats.ts';
import { listIssueSummaries } from '../../src/reports/issue-summaries.ts';
import type { RawTrackingEvent } from '../../src/tracking/classify-event.ts';
import { dropExpiredEventPartitions, ensureEventPartitions } from '../../src/tracking/event-partitions.ts';
import {
  insertTrackingEvents,
  rebuildEventRollups,
  reclassifyEvents,
} from '../../src/tracking/event-rollups.ts';
import { writeEvents } from '../../src/tracking/event-writer.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.close());

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const SEGMENT_KEYS = ['builders', 'builders+founders', 'founders'];
const LINKS = 5; // positions 0–4; 9 is the honeypot

async function seed(db: Db, readers: number) {
  const subs = await db
    .insertInto('subscribers')
    .values(Array.from({ length: readers }, (_, i) => ({ email: `reader${i}@example.com` })))
    .returning('id')
    .execute();
  const issues = [];
  for (const [week, sentAt] of [
    ['2026-W36', '2026-08-31T08:00:00Z'],
    ['2026-W47', '2026-11-16T08:00:00Z'],
  ] as const) {
    const issue = await db
      .insertInto('issues')
      .values({ week, status: 'sent', send_started_at: sentAt })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('issue_links')
      .values([
        ...Array.from({ length: LINKS }, (_, p) => ({
          issue_id: issue.id,
          position: p,
          url: `https://example.com/${week}/${p}`,
        })),
        { issue_id: issue.id, position: 9, url: `https://example.com/${week}/trap`, kind: 'honeypot' },
      ])
      .execute();
    // The last reader has no delivery: events without one stay out of the per-segment numbers.
    await db
      .insertInto('deliveries')
      .values(
        subs.slice(0, -1).map((s, i) => ({
          issue_id: issue.id,
          subscriber_id: s.id,
          segment_key: SEGMENT_KEYS[i % SEGMENT_KEYS.length] as string,
          status:
            i % 17 === 0 ? ('bounced' as const) : i % 13 === 0 ? ('failed' as const) : ('sent' as const),
          message_id: `<${week}.${s.id}@test>`,
          sent_at: sentAt,
          tracked: i % 11 !== 0,
        })),
      )
      .execute();
    issues.push({ id: issue.id, sentAt: new Date(sentAt) });
  }
  return { subscribers: subs.map((s) => s.id), issues };
}

/** Events as the tracking endpoints would hand them to the writer: opens, clicks, bursts, scanners. */
function generateStream(
  next: () => number,
  subscribers: string[],
  issues: Array<{ id: number; sentAt: Date }>,
  at: (issue: { sentAt: Date }) => Date,
  count: number,
): RawTrackingEvent[] {
  const agents = [
    'Mozilla/5.0 (Macintosh) AppleWebKit Safari/605',
    'Thunderbird/128.0',
    'Mozilla/5.0 (compatible; GoogleImageProxy)',
    'Barracuda scanner',
    null,
  ];
  const events: RawTrackingEvent[] = [];
  while (events.length < count) {
    const issue = issues[Math.floor(next() * issues.length)] as { id: number; sentAt: Date };
    const subscriberId = subscribers[Math.floor(next() * subscribers.length)] as string;
    const occurredAt = at(issue);
    const base = {
      issueId: issue.id,
      subscriberId,
      method: next() < 0.05 ? 'HEAD' : 'GET',
      ip: next() < 0.1 ? '17.58.1.2' : '203.0.113.9',
      userAgent: agents[Math.floor(next() * agents.length)] ?? null,
      linksClickedWithinSecond: 1,
    };
    const roll = next();
    if (roll < 0.55) {
      events.push({ ...base, kind: 'open', linkPosition: null, linkKind: null, occurredAt });
    } else if (roll < 0.9) {
      const position = next() < 0.05 ? 9 : Math.floor(next() * LINKS);
      events.push({
        ...base,
        kind: 'click',
        linkPosition: position,
        linkKind: position === 9 ? 'honeypot' : 'story',
        occurredAt,
      });
    } else {
      // A scanner following every link within a second: the third click reclassifies the earlier ones.
      for (let p = 0; p < 3; p += 1)
        events.push({
          ...base,
          kind: 'click',
          linkPosition: p,
          linkKind: 'story',
          occurredAt: new Date(occurredAt.getTime() + p * 100),
          linksClickedWithinSecond: p + 1,
        });
    }
    // Duplicates: the same pixel or click arriving twice.
    if (next() < 0.1) events.push({ ...(events.at(-1) as RawTrackingEvent) });
  }
  return events;
}

interface Snapshot {
  segments: string[];
  links: string[];
  readers: string[];
}

/** The rollups as sorted lines (zero rows left out). */
async function rollups(db: Db): Promise<Snapshot> {
  const segments = await sql<{ line: string }>`
    SELECT concat_ws(' ', issue_id, segment_key, kind, class, events, readers) AS line FROM issue_event_rollups
    WHERE events <> 0 OR readers <> 0 ORDER BY 1`.execute(db);
  const links = await sql<{ line: string }>`
    SELECT concat_ws(' ', issue_id, link_position, class, clicks, readers) AS line FROM issue_link_rollups
    WHERE clicks <> 0 OR readers <> 0 ORDER BY 1`.execute(db);
  const readers = await sql<{ line: string }>`
    SELECT concat_ws(' ', issue_id, subscriber_id, kind, class, events) AS line FROM event_reader_counts
    WHERE events <> 0 ORDER BY 1`.execute(db);
  return {
    segments: segments.rows.map((r) => r.line),
    links: links.rows.map((r) => r.line),
    readers: readers.rows.map((r) => r.line),
  };
}

/** The same numbers computed from the raw events, the way the reports used to. */
async function rawAggregates(db: Db): Promise<Snapshot> {
  const segments = await sql<{ line: string }>`
    WITH e AS (
      SELECT issue_id, subscriber_id, kind, class FROM tracking_events
      UNION ALL
      SELECT issue_id, subscriber_id, 'any', class FROM tracking_events WHERE class = 'human'
    )
    SELECT concat_ws(' ', e.issue_id, coalesce(d.segment_key, ''), e.kind, e.class, count(*), count(DISTINCT e.subscriber_id)) AS line
    FROM e LEFT JOIN deliveries d ON d.issue_id = e.issue_id AND d.subscriber_id = e.subscriber_id
    GROUP BY e.issue_id, coalesce(d.segment_key, ''), e.kind, e.class ORDER BY 1`.execute(db);
  const links = await sql<{ line: string }>`
    SELECT concat_ws(' ', issue_id, link_position, class, count(*),
      CASE WHEN class = 'human' THEN count(DISTINCT subscriber_id) ELSE 0 END) AS line
    FROM tracking_events WHERE kind = 'click' AND link_position IS NOT NULL
    GROUP BY issue_id, link_position, class ORDER BY 1`.execute(db);
  const readers = await sql<{ line: string }>`
    SELECT concat_ws(' ', issue_id, subscriber_id, kind, class, count(*)) AS line FROM (
      SELECT issue_id, subscriber_id, kind, class FROM tracking_events
      UNION ALL
      SELECT issue_id, subscriber_id, 'any', class FROM tracking_events WHERE class = 'human'
    ) e GROUP BY issue_id, subscriber_id, kind, class ORDER BY 1`.execute(db);
  return {
    segments: segments.rows.map((r) => r.line),
    links: links.rows.map((r) => r.line),
    readers: readers.rows.map((r) => r.line),
  };
}

async function deliveryCounts(db: Db) {
  const rolled = await sql<{ line: string }>`
    SELECT concat_ws(' ', issue_id, segment_key, status, tracked, sum(deliveries)) AS line
    FROM issue_delivery_rollups GROUP BY issue_id, segment_key, status, tracked HAVING sum(deliveries) <> 0 ORDER BY 1`.execute(
    db,
  );
  const raw = await sql<{ line: string }>`
    SELECT concat_ws(' ', issue_id, segment_key, status, tracked, count(*)) AS line
    FROM deliveries GROUP BY issue_id, segment_key, status, tracked ORDER BY 1`.execute(db);
  return { rolled: rolled.rows.map((r) => r.line), raw: raw.rows.map((r) => r.line) };
}

async function partitionOf(db: Db, occurredAt: string): Promise<string[]> {
  const { rows } = await sql<{ part: string }>`
    SELECT DISTINCT tableoid::regclass::text AS part FROM tracking_events WHERE occurred_at = ${occurredAt}::timestamptz`.execute(
    db,
  );
  return rows.map((r) => r.part);
}

describe('event and delivery rollups', () => {
  it('equal the raw aggregates through a stream with late events, duplicates, reclassification and retention', async () => {
    const next = random(20261130);
    const { subscribers, issues } = await seed(t.db, 40);
    const [oldIssue, newIssue] = issues as [{ id: number; sentAt: Date }, { id: number; sentAt: Date }];

    // Batches as the writer cuts them, some within seconds of delivery (machines and scanners by timing).
    const soon = (issue: { sentAt: Date }) => new Date(issue.sentAt.getTime() + Math.floor(next() * 20_000));
    const later = (issue: { sentAt: Date }) =>
      new Date(issue.sentAt.getTime() + 60_000 + Math.floor(next() * 3 * 86_400_000));
    const stream = [
      ...generateStream(next, subscribers, issues, soon, 150),
      ...generateStream(next, subscribers, issues, later, 450),
    ];
    for (let i = 0; i < stream.length; i += 37) await writeEvents(t.db, stream.slice(i, i + 37));
    expect(await rollups(t.db)).toEqual(await rawAggregates(t.db));
    // A rebuild from the raw events (of one issue, then of all) finds the same numbers.
    const written = await rollups(t.db);
    await rebuildEventRollups(t.db, oldIssue.id);
    expect(await rollups(t.db)).toEqual(written);
    await rebuildEventRollups(t.db);
    expect(await rollups(t.db)).toEqual(written);

    // Late events for the old issue, weeks after its send: into this month's partition, into an old
    // month's partition created for them, and into the default partition (no partition for 2025-01).
    await ensureEventPartitions(t.db, new Date('2026-08-01T00:00:00Z'), 0);
    const late = generateStream(next, subscribers, [oldIssue], () => new Date(), 60);
    await writeEvents(t.db, late);
    await insertTrackingEvents(t.db, [
      {
        kind: 'open',
        issue_id: oldIssue.id,
        subscriber_id: subscribers[1] as string,
        class: 'human',
        occurred_at: '2026-08-20T10:00:00Z',
      },
      {
        kind: 'click',
        issue_id: oldIssue.id,
        subscriber_id: subscribers[1] as string,
        class: 'human',
        link_position: 2,
        occurred_at: '2026-08-20T10:00:00Z',
      },
      {
        kind: 'open',
        issue_id: oldIssue.id,
        subscriber_id: subscribers[2] as string,
        class: 'human',
        occurred_at: '2025-01-10T10:00:00Z',
      },
      {
        kind: 'open',
        issue_id: oldIssue.id,
        subscriber_id: subscribers[2] as string,
        class: 'human',
        occurred_at: '2025-01-10T10:00:00Z',
      },
      {
        kind: 'click',
        issue_id: newIssue.id,
        subscriber_id: subscribers[3] as string,
        class: 'human',
        link_position: 1,
        occurred_at: '2027-06-15T10:00:00Z',
      },
    ]);
    expect(await partitionOf(t.db, '2026-08-20T10:00:00Z')).toEqual(['tracking_events_p202608']);
    expect(await partitionOf(t.db, '2025-01-10T10:00:00Z')).toEqual(['tracking_events_default']);
    expect(await partitionOf(t.db, '2027-06-15T10:00:00Z')).toEqual(['tracking_events_default']);
    expect(await rollups(t.db)).toEqual(await rawAggregates(t.db));

    // Reclassification: one reader's human opens judged a machine's, a burst's clicks a scanner's.
    const judged = subscribers[4] as string;
    await insertTrackingEvents(t.db, [
      { kind: 'open', issue_id: newIssue.id, subscriber_id: judged, class: 'human' },
      { kind: 'open', issue_id: newIssue.id, subscriber_id: judged, class: 'human' },
      { kind: 'click', issue_id: newIssue.id, subscriber_id: judged, class: 'human', link_position: 0 },
    ]);
    const moved = await reclassifyEvents(
      t.db,
      {
        kind: 'open',
        since: new Date('2020-01-01T00:00:00Z'),
        readers: [{ issueId: newIssue.id, subscriberId: judged }],
      },
      { class: 'machine', reason: 'judged-later' },
    );
    expect(moved).toBeGreaterThanOrEqual(2);
    const burstAt = Date.now();
    await writeEvents(
      t.db,
      [0, 1, 2].map((p) => ({
        kind: 'click' as const,
        issueId: newIssue.id,
        subscriberId: subscribers[5] as string,
        linkPosition: p,
        linkKind: 'story',
        method: 'GET',
        ip: '198.51.100.1',
        userAgent: 'Mozilla/5.0 (Windows NT 10.0) Chrome/130',
        occurredAt: new Date(burstAt + p * 200),
        linksClickedWithinSecond: p + 1,
      })),
    );
    const burst = await t.db
      .selectFrom('tracking_events')
      .select('class')
      .where('issue_id', '=', newIssue.id)
      .where('subscriber_id', '=', subscribers[5] as string)
      .where('occurred_at', '>=', new Date(burstAt))
      .execute();
    expect(burst.map((e) => e.class)).toEqual(['scanner', 'scanner', 'scanner']);
    const full = await rollups(t.db);
    expect(full).toEqual(await rawAggregates(t.db));
    expect(full.segments.some((line) => line.includes(' any human '))).toBe(true);

    // A partition for the month the default holds rows of takes them over.
    expect(await ensureEventPartitions(t.db, new Date('2027-06-01T00:00:00Z'), 0)).toEqual([
      'tracking_events_p202706',
    ]);
    expect(await partitionOf(t.db, '2027-06-15T10:00:00Z')).toEqual(['tracking_events_p202706']);
    expect(await ensureEventPartitions(t.db, new Date('2027-06-01T00:00:00Z'), 0)).toEqual([]);

    // Retention drops whole old months (and old rows of the default partition); rollups stay.
    const statsBefore = await loadIssueStats(t.db, '2026-W36');
    const seriesBefore = await loadWeeklySeries(t.db);
    const rawBefore = await t.db
      .selectFrom('tracking_events')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    const oldInDefault = await sql<{ n: string }>`
      SELECT count(*) AS n FROM tracking_events_default WHERE occurred_at < '2026-10-01T00:00:00Z'`.execute(
      t.db,
    );
    expect(Number(oldInDefault.rows[0]?.n)).toBeGreaterThanOrEqual(2); // 2025-01 and W36's September events
    const retention = await dropExpiredEventPartitions(t.db, new Date('2026-11-30T00:00:00Z'), 60);
    expect(retention.dropped).toEqual(['tracking_events_p202608']);
    expect(retention.purged).toBe(Number(oldInDefault.rows[0]?.n));
    const rawAfter = await t.db
      .selectFrom('tracking_events')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(rawAfter.n)).toBeLessThan(Number(rawBefore.n));
    expect(await rollups(t.db)).toEqual(full);
    expect(await loadIssueStats(t.db, '2026-W36')).toEqual(statsBefore);
    expect(await loadWeeklySeries(t.db)).toEqual(seriesBefore);
    // The raw events no longer hold what the rollups remember.
    expect(await rollups(t.db)).not.toEqual(await rawAggregates(t.db));
    // New events after retention still roll up on top of what was kept.
    await insertTrackingEvents(t.db, [
      { kind: 'open', issue_id: oldIssue.id, subscriber_id: subscribers[6] as string, class: 'human' },
    ]);
    const stats = await loadIssueStats(t.db, '2026-W36');
    expect(stats?.humanReaders).toBeGreaterThanOrEqual(statsBefore?.humanReaders ?? 0);
  });

  it('count deliveries by segment set, status and tracking through inserts, updates, compaction and deletes', async () => {
    const before = await deliveryCounts(t.db);
    expect(before.rolled).toEqual(before.raw);
    await t.db
      .updateTable('deliveries')
      .set({ status: 'bounced' })
      .where('status', '=', 'sent')
      .where('subscriber_id', 'in', (eb) =>
        eb.selectFrom('subscribers').select('id').where('email', 'like', 'reader1%'),
      )
      .execute();
    await t.db.updateTable('deliveries').set({ lease_owner: 'nobody' }).execute(); // no status change
    const week = await t.db
      .insertInto('issues')
      .values({ week: '2026-W48', status: 'sending' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await sql`
      INSERT INTO deliveries (issue_id, subscriber_id, segment_key, message_id, tracked)
      SELECT ${week.id}, id, 'founders', '<w48.' || id || '@test>', id % 2 = 0 FROM subscribers`.execute(
      t.db,
    );
    await sql`UPDATE deliveries SET status = 'sent' WHERE issue_id = ${week.id} AND subscriber_id % 3 = 0`.execute(
      t.db,
    );
    let counts = await deliveryCounts(t.db);
    expect(counts.rolled).toEqual(counts.raw);

    expect(await compactDeliveryRollups(t.db)).toBeGreaterThan(0);
    const perKey = await sql<{ n: string }>`
      SELECT count(*) AS n FROM issue_delivery_rollups GROUP BY issue_id, segment_key, status, tracked HAVING count(*) > 1`.execute(
      t.db,
    );
    expect(perKey.rows).toEqual([]);
    counts = await deliveryCounts(t.db);
    expect(counts.rolled).toEqual(counts.raw);

    // A subscriber erased: their deliveries go, and with them the counts.
    await t.db.deleteFrom('subscribers').where('email', '=', 'reader7@example.com').execute();
    counts = await deliveryCounts(t.db);
    expect(counts.rolled).toEqual(counts.raw);
    const summaries = await listIssueSummaries(t.db);
    const w48 = summaries.find((s) => s.week === '2026-W48');
    expect(w48?.recipients).toBe(39);
    expect(w48?.trackedDelivered).toBe(
      Number(
        (
          await sql<{
            n: string;
          }>`SELECT count(*) AS n FROM deliveries WHERE issue_id = ${week.id} AND status = 'sent' AND tracked`.execute(
            t.db,
          )
        ).rows[0]?.n,
      ),
    );

    // Deleting an issue takes its deliveries and rollups with it.
    await t.db.deleteFrom('issues').where('id', '=', week.id).execute();
    counts = await deliveryCounts(t.db);
    expect(counts.rolled).toEqual(counts.raw);
  });
});

describe('migration 20261130070000', () => {
  it('moves existing events into monthly partitions and backfills every rollup from them', async () => {
    const migration = await import('../../src/db/migrations/20261130070000_event_rollups.ts');
    const m = await createTestDatabase();
    try {
      await migration.down(m.db);
      const { subscribers, issues } = await seed(m.db, 12);
      const [first, second] = issues as [{ id: number; sentAt: Date }, { id: number; sentAt: Date }];
      const rows = subscribers.flatMap((subscriberId, i) => [
        {
          kind: 'open',
          issue_id: first.id,
          subscriber_id: subscriberId,
          class: i % 3 ? 'human' : 'machine',
          occurred_at: '2026-09-01T10:00:00Z',
        },
        {
          kind: 'open',
          issue_id: second.id,
          subscriber_id: subscriberId,
          class: 'human',
          occurred_at: '2026-11-17T10:00:00Z',
        },
        {
          kind: 'click',
          issue_id: second.id,
          subscriber_id: subscriberId,
          class: i % 4 ? 'human' : 'scanner',
          link_position: i % 3,
          occurred_at: '2026-11-17T10:00:00Z',
        },
      ]);
      await sql`
        INSERT INTO tracking_events (kind, issue_id, subscriber_id, class, link_position, occurred_at)
        SELECT kind, issue_id, subscriber_id, class, link_position, occurred_at
        FROM json_populate_recordset(NULL::tracking_events, ${JSON.stringify(rows)}::json)`.execute(m.db);
      await migration.up(m.db);
      expect(await partitionOf(m.db, '2026-09-01T10:00:00Z')).toEqual(['tracking_events_p202609']);
      expect(await partitionOf(m.db, '2026-11-17T10:00:00Z')).toEqual(['tracking_events_p202611']);
      const rolled = await rollups(m.db);
      expect(rolled.segments.length).toBeGreaterThan(0);
      expect(rolled).toEqual(await rawAggregates(m.db));
      const counts = await deliveryCounts(m.db);
      expect(counts.rolled).toEqual(counts.raw);
      // New ids continue after the moved ones.
      await insertTrackingEvents(m.db, [
        { kind: 'open', issue_id: first.id, subscriber_id: subscribers[0] as string, class: 'human' },
      ]);
      expect((await rollups(m.db)).segments).toEqual((await rawAggregates(m.db)).segments);
    } finally {
      await m.close();
    }
  });
});
