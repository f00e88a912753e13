import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventClass } from '../../src/db/database.ts';
import { formatIssueStats } from '../../src/reports/format-stats.ts';
import { loadIssueStats, loadWeeklySeries } from '../../src/reports/issue-stats.ts';
import { insertTrackingEvents } from '../../src/tracking/event-rollups.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.close());

async function seedSubscribers(count: number, prefix: string): Promise<string[]> {
  const rows = await t.db
    .insertInto('subscribers')
    .values(Array.from({ length: count }, (_, i) => ({ email: `${prefix}${i}@example.com` })))
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}

async function seedIssue(week: string, sendStartedAt: string): Promise<number> {
  const row = await t.db
    .insertInto('issues')
    .values({ week, status: 'sent', built_at: sendStartedAt, send_started_at: sendStartedAt })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

function event(
  issueId: number,
  subscriberId: string,
  kind: 'open' | 'click',
  cls: EventClass,
  link: number | null = null,
) {
  return { issue_id: issueId, subscriber_id: subscriberId, kind, class: cls, link_position: link };
}

describe('issue stats', () => {
  it('counts recipients, outcomes, people who opened and clicked, per segment and per link', async () => {
    await t.db
      .insertInto('stories')
      .values([
        {
          id: 's1',
          title: 'Model launch',
          url: 'https://a.example/1',
          canonical_url: 'https://a.example/1',
          source_name: 'A',
          collected_at: '2026-11-17T00:00:00Z',
        },
        {
          id: 's2',
          title: 'Chip export rules',
          url: 'https://b.example/2',
          canonical_url: 'https://b.example/2',
          source_name: 'B',
          collected_at: '2026-11-17T00:00:00Z',
        },
      ])
      .execute();
    const subs = await seedSubscribers(10, 'w47-');
    const issueId = await seedIssue('2026-W47', '2026-11-23T08:00:00Z');
    const statuses = [
      'sent',
      'sent',
      'sent',
      'sent',
      'sent',
      'sent',
      'bounced',
      'failed',
      'queued',
      'skipped',
    ] as const;
    await t.db
      .insertInto('deliveries')
      .values(
        subs.map((id, i) => ({
          issue_id: issueId,
          subscriber_id: id,
          segment_key: i < 6 ? 'builders' : 'builders+founders',
          status: statuses[i],
          message_id: `<${id}@test>`,
        })),
      )
      .execute();
    await t.db
      .insertInto('issue_links')
      .values([
        { issue_id: issueId, position: 0, url: 'https://a.example/1', story_id: 's1' },
        { issue_id: issueId, position: 1, url: 'https://b.example/2', story_id: 's2' },
        { issue_id: issueId, position: 2, url: 'https://recap.example/archive', kind: 'archive' },
      ])
      .execute();
    const [a, b, c, d, e, f, g] = subs as [string, string, string, string, string, string, string];
    await insertTrackingEvents(t.db, [
      event(issueId, a, 'open', 'human'),
      event(issueId, a, 'open', 'human'), // twice: one person
      event(issueId, b, 'open', 'human'),
      event(issueId, g, 'open', 'human'), // builders+founders
      event(issueId, c, 'open', 'machine'),
      event(issueId, d, 'open', 'scanner'),
      event(issueId, e, 'open', 'unknown'),
      event(issueId, a, 'click', 'human', 0),
      event(issueId, a, 'click', 'human', 0),
      event(issueId, b, 'click', 'human', 1),
      event(issueId, d, 'click', 'scanner', 0),
      event(issueId, d, 'click', 'scanner', 1),
    ]);
    await t.db
      .insertInto('consent_log')
      .values([
        { subscriber_id: e, action: 'unsubscribe', detail: JSON.stringify({ source: 'one-click', issueId }) },
        {
          subscriber_id: f,
          action: 'unsubscribe',
          detail: JSON.stringify({ source: 'web' }),
          occurred_at: '2026-11-24T10:00:00Z',
        },
        {
          subscriber_id: f,
          action: 'unsubscribe',
          detail: JSON.stringify({ source: 'web' }),
          occurred_at: '2026-11-01T10:00:00Z',
        }, // before the send
        {
          subscriber_id: g,
          action: 'complaint',
          detail: JSON.stringify({ source: 'complaint' }),
          occurred_at: '2026-11-25T10:00:00Z',
        },
        { subscriber_id: a, action: 'signup-confirmed', detail: JSON.stringify({ issueId }) },
      ])
      .execute();

    const stats = await loadIssueStats(t.db, '2026-W47');
    expect(stats?.totals).toEqual({
      recipients: 10,
      sent: 7,
      failed: 1,
      bounced: 1,
      pending: 1,
      skipped: 1,
      delivered: 6,
      notTracked: 0,
      trackedDelivered: 6,
      humanOpeners: 3,
      machineOpeners: 1,
      scannerOpeners: 1,
      unknownOpeners: 1,
      humanClickers: 2,
      humanClicks: 3,
      otherClicks: 2,
      openRate: 3 / 6,
      clickRate: 2 / 6,
      unsubscribes: 2,
      complaints: 1,
    });
    expect(
      stats?.segments.map((s) => [s.segmentKey, s.recipients, s.delivered, s.humanOpeners, s.complaints]),
    ).toEqual([
      ['builders', 6, 6, 2, 0],
      ['builders+founders', 4, 0, 1, 1],
    ]);
    expect(
      stats?.links.map((l) => [l.position, l.storyTitle, l.humanClicks, l.humanClickers, l.otherClicks]),
    ).toEqual([
      [0, 'Model launch', 2, 1, 1],
      [1, 'Chip export rules', 1, 1, 1],
      [2, null, 0, 0, 0],
    ]);

    // `recap stats` prints the same numbers.
    const text = formatIssueStats(stats as NonNullable<typeof stats>);
    expect(text).toMatch(/^ {2}unique human opens +3$/m);
    expect(text).toMatch(/^ {2}open rate +50\.0%$/m);
    expect(text).toMatch(/^ {2}builders\+founders +4 +0 +1 +0\.0% +0 +0\.0% +0 +1$/m);
    expect(text).toMatch(/^ +2 +1 +1 {2}Model launch {2}https:\/\/a\.example\/1$/m);
  });

  it('returns null for a week without an issue and zeros for an issue without deliveries', async () => {
    expect(await loadIssueStats(t.db, '2020-W01')).toBeNull();
    await t.db.insertInto('issues').values({ week: '2026-W46' }).execute();
    const stats = await loadIssueStats(t.db, '2026-W46');
    expect(stats?.totals).toMatchObject({ recipients: 0, openRate: 0, clickRate: 0 });
    expect(stats?.segments).toEqual([]);
  });

  it('gives a week-over-week series, each unsubscribe attributed to one issue', async () => {
    const subs = await seedSubscribers(4, 'w48-');
    const issueId = await seedIssue('2026-W48', '2026-11-30T08:00:00Z');
    await t.db
      .insertInto('deliveries')
      .values(
        subs.map((id) => ({
          issue_id: issueId,
          subscriber_id: id,
          segment_key: 'builders',
          status: 'sent' as const,
          message_id: `<${id}@w48>`,
        })),
      )
      .execute();
    await insertTrackingEvents(t.db, [
      event(issueId, subs[0] as string, 'open', 'human'),
      event(issueId, subs[0] as string, 'click', 'human', 0),
    ]);
    // After W48 was sent: belongs to W48, not to W47 (whose window ends at W48's send).
    await t.db
      .insertInto('consent_log')
      .values({
        subscriber_id: subs[1] as string,
        action: 'unsubscribe',
        detail: '{}',
        occurred_at: '2026-12-01T09:00:00Z',
      })
      .execute();

    const series = await loadWeeklySeries(t.db, 12);
    expect(
      series.map((p) => [
        p.week,
        p.audience,
        p.delivered,
        p.openRate,
        p.clickRate,
        p.unsubscribes,
        p.complaints,
      ]),
    ).toEqual([
      ['2026-W47', 10, 6, 3 / 6, 2 / 6, 2, 1],
      ['2026-W48', 4, 4, 1 / 4, 1 / 4, 1, 0],
    ]);
    expect((await loadWeeklySeries(t.db, 1)).map((p) => p.week)).toEqual(['2026-W48']);
  });
});
