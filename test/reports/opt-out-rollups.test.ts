import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as optOutMigration from '../../src/db/migrations/20261130080000_opt_out_rollups.ts';
import { loadIssueStats, loadWeeklySeries } from '../../src/reports/issue-stats.ts';
import { eraseSubscriber } from '../../src/subscribers/erasure.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.close());

const DAY = 86_400_000;
const FIRST_SEND = Date.parse('2026-10-05T08:00:00Z');
const SENT_ISSUES = 5;
const SUBSCRIBERS = 24;

/** A small deterministic generator, so a failure can be replayed. */
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

interface OptOutRow {
  issue_id: number;
  subscriber_id: string;
  segment_key: string;
  unsubscribed: boolean;
  complained: boolean;
}

/**
 * The attribution as reports computed it when they were read (before the rollup), for one issue: the
 * reference the rollup must equal.
 */
async function attributedWhenRead(issueId: number): Promise<OptOutRow[]> {
  const { rows } = await sql<OptOutRow>`
    SELECT a.issue_id, a.subscriber_id::text AS subscriber_id, d.segment_key, a.unsubscribed, a.complained
    FROM (
      SELECT w.id AS issue_id, c.subscriber_id,
        bool_or(c.action = 'unsubscribe') AS unsubscribed, bool_or(c.action = 'complaint') AS complained
      FROM (
        SELECT subscriber_id, action, occurred_at, detail->>'issueId' AS named_issue FROM consent_log
        WHERE action IN ('unsubscribe', 'complaint')
          AND occurred_at >= (
            SELECT CASE WHEN bool_or(send_started_at IS NULL) THEN '-infinity'::timestamptz ELSE min(send_started_at) END
            FROM issues WHERE id IN (${issueId}))
      ) c
      JOIN (
        SELECT id, send_started_at AS from_at, lead(send_started_at) OVER (ORDER BY week) AS to_at FROM issues
      ) w ON c.named_issue = w.id::text
        OR (c.named_issue IS NULL AND w.from_at IS NOT NULL AND c.occurred_at >= w.from_at
            AND (w.to_at IS NULL OR c.occurred_at < w.to_at))
      JOIN deliveries d ON d.issue_id = w.id AND d.subscriber_id = c.subscriber_id
      WHERE w.id IN (${issueId})
      GROUP BY w.id, c.subscriber_id
    ) a
    JOIN deliveries d ON d.issue_id = a.issue_id AND d.subscriber_id = a.subscriber_id
    ORDER BY a.subscriber_id`.execute(t.db);
  return rows;
}

async function issueIds(): Promise<number[]> {
  const rows = await t.db.selectFrom('issues').select('id').orderBy('week').execute();
  return rows.map((r) => r.id);
}

async function referenceRows(): Promise<OptOutRow[]> {
  const rows: OptOutRow[] = [];
  for (const id of await issueIds()) rows.push(...(await attributedWhenRead(id)));
  return rows;
}

async function rolledUp(): Promise<OptOutRow[]> {
  const { rows } = await sql<OptOutRow>`
    SELECT issue_id, subscriber_id::text AS subscriber_id, segment_key, unsubscribed, complained
    FROM issue_opt_outs o ORDER BY o.issue_id, o.subscriber_id`.execute(t.db);
  return rows;
}

type Record_ = { subscriber_id: string; action: string; occurred_at: string; detail: string };

/**
 * A year in small: each week's issue is built a week ahead (no send yet, no deliveries), then sent to
 * most subscribers; in between, opt-outs arrive one by one and in set-based batches: naming the issue,
 * an older one, the next one (not sent yet), garbage, or nothing; some twice. Some come before any send.
 */
// Long: one generated timeline of issues, sends and consent records, written in order.
async function generateTimeline(): Promise<{ weeks: string[]; subscribers: string[] }> {
  const random = generator(20261130);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const subscribers = (
    await t.db
      .insertInto('subscribers')
      .values(Array.from({ length: SUBSCRIBERS }, (_, i) => ({ email: `optout${i}@example.com` })))
      .returning('id')
      .execute()
  ).map((r) => r.id);
  const weeks = Array.from({ length: SENT_ISSUES + 1 }, (_, k) => `2026-W${41 + k}`);
  const ids: number[] = [];
  const build = async (k: number) => {
    const row = await t.db
      .insertInto('issues')
      .values({ week: weeks[k] as string, status: 'approved' })
      .returning('id')
      .executeTakeFirstOrThrow();
    ids.push(row.id);
  };
  const write = async (records: Record_[]) => {
    if (records.length > 0) await t.db.insertInto('consent_log').values(records).execute();
  };
  const at = (ms: number) => new Date(ms).toISOString();
  const optOut = (subscriber: string, occurredAt: number, detail: Record<string, unknown>) => ({
    subscriber_id: subscriber,
    action: random() < 0.75 ? 'unsubscribe' : 'complaint',
    occurred_at: at(occurredAt),
    detail: JSON.stringify({ source: 'web', ...detail }),
  });

  await build(0);
  // Before any send: nothing to attribute them to, named or not.
  await write([
    optOut(subscribers[0] as string, FIRST_SEND - 3 * DAY, {}),
    optOut(subscribers[1] as string, FIRST_SEND - 2 * DAY, { issueId: ids[0] }),
  ]);
  for (let k = 0; k < SENT_ISSUES; k++) {
    const sendAt = FIRST_SEND + k * 7 * DAY;
    const id = ids[k] as number;
    // The send: every subscriber but every fourth (shifting each week), in three segment sets.
    await t.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('deliveries')
        .values(
          subscribers
            .filter((_, i) => (i + k) % 4 !== 0)
            .map((subscriber, i) => ({
              issue_id: id,
              subscriber_id: subscriber,
              segment_key: pick(['a', 'b', 'a+b']),
              status: i % 7 === 0 ? ('skipped' as const) : ('sent' as const),
              message_id: `<${id}.${subscriber}@test>`,
            })),
        )
        .execute();
      await trx
        .updateTable('issues')
        .set({ status: 'sent', send_started_at: at(sendAt) })
        .where('id', '=', id)
        .execute();
    });
    await build(k + 1);
    const records: Record_[] = [];
    for (let n = 0; n < 30; n++) {
      const occurredAt = sendAt + Math.floor(random() * (7 * DAY - 1));
      const roll = random();
      const detail =
        roll < 0.35
          ? { issueId: id }
          : roll < 0.45
            ? { issueId: String(id) }
            : roll < 0.55
              ? { issueId: pick(ids.slice(0, k + 1)) }
              : roll < 0.62
                ? { issueId: ids[k + 1] }
                : roll < 0.7
                  ? { issueId: pick(['abc', '', ` ${id}`, `0${id}`, 999_999, 2.5, null]) }
                  : {};
      const record = optOut(pick(subscribers), occurredAt, detail);
      records.push(record);
      if (random() < 0.15) records.push(record);
    }
    records.push({
      subscriber_id: subscribers[2] as string,
      action: 'signup-confirmed',
      occurred_at: at(sendAt + DAY),
      detail: JSON.stringify({ issueId: id }),
    });
    // Half one at a time (as the web pages write them), half in one statement.
    for (const record of records.slice(0, 15)) await write([record]);
    await write(records.slice(15));
  }
  // The last sent issue's window is still open; the next one is built but not sent.
  await write([optOut(subscribers[3] as string, FIRST_SEND + SENT_ISSUES * 7 * DAY + DAY, {})]);
  return { weeks, subscribers };
}

describe('opt-out rollup', () => {
  let weeks: string[] = [];
  let subscribers: string[] = [];

  it('equals the attribution reports made when read, over a generated set of consent records', async () => {
    ({ weeks, subscribers } = await generateTimeline());
    const expected = await referenceRows();
    expect(expected.length).toBeGreaterThan(30);
    expect(new Set(expected.map((r) => r.issue_id)).size).toBe(SENT_ISSUES);
    expect(expected.some((r) => r.complained)).toBe(true);
    expect(await rolledUp()).toEqual(expected);

    const series = await loadWeeklySeries(t.db, 12);
    expect(series.map((p) => [p.week, p.unsubscribes, p.complaints])).toEqual(
      weeks.slice(0, SENT_ISSUES).map((week, k) => {
        const rows = expected.filter((r) => r.issue_id === series[k]?.issueId);
        return [week, rows.filter((r) => r.unsubscribed).length, rows.filter((r) => r.complained).length];
      }),
    );
    for (const point of series) {
      const stats = await loadIssueStats(t.db, point.week);
      expect(stats?.totals).toMatchObject({ unsubscribes: point.unsubscribes, complaints: point.complaints });
      const rows = expected.filter((r) => r.issue_id === point.issueId);
      for (const segment of stats?.segments ?? []) {
        const inSegment = rows.filter((r) => r.segment_key === segment.segmentKey);
        expect([segment.segmentKey, segment.unsubscribes, segment.complaints]).toEqual([
          segment.segmentKey,
          inSegment.filter((r) => r.unsubscribed).length,
          inSegment.filter((r) => r.complained).length,
        ]);
      }
    }
  });

  it('is rebuilt from the consent log by its migration', async () => {
    const before = await rolledUp();
    await optOutMigration.down(t.db);
    await optOutMigration.up(t.db);
    expect(await rolledUp()).toEqual(before);
  });

  it('keeps the counts when a person with opt-outs is erased', async () => {
    const counts = await sql<{ subscriber_id: string; n: string }>`
      SELECT subscriber_id::text AS subscriber_id, count(*) AS n FROM issue_opt_outs
      WHERE subscriber_id = ANY (${subscribers}::bigint[]) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1`.execute(
      t.db,
    );
    const person = counts.rows[0];
    expect(Number(person?.n)).toBeGreaterThan(1);
    const email = `optout${subscribers.indexOf(person?.subscriber_id as string)}@example.com`;
    const series = await loadWeeklySeries(t.db, 12);
    const stats = await Promise.all(weeks.map((week) => loadIssueStats(t.db, week)));

    expect(await eraseSubscriber(t.db, email, { ip: null, userAgent: null, source: 'cli' })).toMatchObject({
      outcome: 'erased',
    });
    expect(
      await t.db
        .selectFrom('issue_opt_outs')
        .select('issue_id')
        .where('subscriber_id', '=', person?.subscriber_id as string)
        .execute(),
    ).toEqual([]);
    expect(await loadWeeklySeries(t.db, 12)).toEqual(series);
    expect(await Promise.all(weeks.map((week) => loadIssueStats(t.db, week)))).toEqual(stats);
    // The records and deliveries moved to the placeholder with the rollup rows: still the same attribution.
    expect(await rolledUp()).toEqual(await referenceRows());
  });
});
