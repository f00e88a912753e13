import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/database.ts';
import { buildIssue } from '../../src/issues/build-issue.ts';
import { loadEngagement } from '../../src/issues/engagement.repository.ts';
import { listSegments, upsertStories } from '../../src/stories/story.repository.ts';
import { insertTrackingEvents } from '../../src/tracking/event-rollups.ts';
import { makeStory } from '../selection/story-factory.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let database: TestDatabase;
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterAll(async () => {
  await database?.close();
});

const last = new Date('2026-11-18T10:00:00Z');
const now = new Date('2026-11-26T10:00:00Z');
const both = ['Researchers', 'Investors'];
const story = (id: string, title: string, source: string, publishedAt: Date) =>
  makeStory({
    id,
    title,
    source: { name: source, url: null },
    tldr: { whatChanged: `${title}.`, whyItMatters: null, whatToDoNext: null },
    audiences: both,
    publishedAt,
  });

/** Issue W47, sent: both old stories in both sections; three Investors readers and one Researchers reader. */
async function sentIssue() {
  await db
    .transaction()
    .execute((trx) =>
      upsertStories(trx, [
        story('old-wire', 'Quasar chips ship', 'Example Wire', last),
        story('old-daily', 'Lumen robots walk', 'Other Daily', last),
        story('new-wire', 'Ferro batteries charge', 'Example Wire', now),
        story('new-daily', 'Vesper drones land', 'Other Daily', now),
      ]),
    );
  const segments = await listSegments(db);
  const issue = await db
    .insertInto('issues')
    .values({ week: '2026-W47', status: 'sent' })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('issue_items')
    .values(
      segments
        .filter((s) => both.includes(s.name))
        .flatMap((segment) =>
          ['old-wire', 'old-daily'].map((storyId, position) => ({
            issue_id: issue.id,
            segment_id: segment.id,
            story_id: storyId,
            position,
            score: 0.5,
            also_covered_by: '[]',
            reasons: '[]',
            score_breakdown: '{}',
          })),
        ),
    )
    .execute();
  await db
    .insertInto('issue_links')
    .values([
      {
        issue_id: issue.id,
        position: 0,
        url: 'https://news.example.com/old-wire',
        story_id: 'old-wire',
        kind: 'story',
      },
      {
        issue_id: issue.id,
        position: 1,
        url: 'https://news.example.com/old-daily',
        story_id: 'old-daily',
        kind: 'story',
      },
    ])
    .execute();
  const readers = await db
    .insertInto('subscribers')
    .values(['a', 'b', 'c', 'd'].map((name) => ({ email: `${name}@example.com` })))
    .returning('id')
    .execute();
  const [a, b, c, d] = readers.map((r) => r.id) as [string, string, string, string];
  await db
    .insertInto('deliveries')
    .values(
      [a, b, c, d].map((subscriberId, i) => ({
        issue_id: issue.id,
        subscriber_id: subscriberId,
        segment_key: i < 3 ? 'investors' : 'researchers',
        status: 'sent' as const,
        message_id: `<m${i}@example.com>`,
      })),
    )
    .execute();
  return { issueId: issue.id, a, b, c, d };
}

describe('engagement term from the database', () => {
  it('learns from human clicks and votes of a segment, never from scanners, and moves that segment only', async () => {
    const { issueId, a, b, c, d } = await sentIssue();
    const click = (subscriber: string, position: number, kind: 'human' | 'scanner') => ({
      kind: 'click' as const,
      issue_id: issueId,
      subscriber_id: subscriber,
      link_position: position,
      class: kind,
    });
    await insertTrackingEvents(db, [
      // Scanners press every link of every copy: none of it counts.
      ...[a, b, c, d].flatMap((s) => [
        click(s, 0, 'scanner'),
        click(s, 0, 'scanner'),
        click(s, 1, 'scanner'),
      ]),
      click(a, 1, 'human'),
      click(a, 1, 'human'),
      click(b, 1, 'human'),
    ]);
    await db
      .insertInto('story_votes')
      .values([
        { subscriber_id: b, story_id: 'old-wire', issue_id: issueId, vote: -1 },
        { subscriber_id: c, story_id: 'old-wire', issue_id: issueId, vote: -1 },
      ])
      .execute();

    const engagement = await loadEngagement(db, '2026-W48');
    const investors = engagement?.bySegment.Investors;
    // Distinct human clickers per story, votes as cast, copies of the segment as exposure.
    expect(investors?.features['source:example wire']).toEqual({ exposure: 3, clicks: 0, more: 0, less: 2 });
    expect(investors?.features['source:other daily']).toEqual({ exposure: 3, clicks: 2, more: 0, less: 0 });
    expect(investors?.total).toEqual({ exposure: 6, clicks: 2, more: 0, less: 2 });
    expect(engagement?.bySegment.Researchers?.total).toEqual({ exposure: 2, clicks: 0, more: 0, less: 0 });
    expect(await loadEngagement(db, '2026-W47')).toBeNull();

    const build = await buildIssue(db, {
      week: '2026-W48',
      timeZone: 'UTC',
      storiesPerSegment: 7,
      minStoriesPerSegment: 1,
      now,
    });
    const section = (name: string) => build.report.segments.find((s) => s.segment === name)?.stories ?? [];
    const wire = section('Investors').find((s) => s.id === 'new-wire');
    const daily = section('Investors').find((s) => s.id === 'new-daily');
    expect(wire?.scoreBreakdown.engagement).toBeLessThan(0);
    expect(wire?.scoreBreakdown.engagement).toBeGreaterThanOrEqual(-0.1);
    expect(wire?.reasons).toContainEqual(
      expect.stringMatching(/^Investors readers said less like this about Example Wire \(−0\.\d\d\)$/),
    );
    expect(daily?.scoreBreakdown.engagement).toBeGreaterThan(0);
    expect(daily?.reasons).toContainEqual(
      expect.stringMatching(/^readers of Investors clicked stories from Other Daily \(\+0\.\d\d\)$/),
    );
    expect(section('Investors')[0]?.id).toBe('new-daily');
    // Researchers said and clicked nothing: no engagement part for them.
    for (const item of section('Researchers')) expect(item.scoreBreakdown.engagement).toBe(0);
  });
});
