import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIssue } from '../../src/issues/build-issue.ts';
import { loadEngagement } from '../../src/issues/engagement.repository.ts';
import { upsertStories } from '../../src/stories/story.repository.ts';
import { makeStory } from '../selection/story-factory.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

describe('past engagement', () => {
  it('counts human clicks of earlier issues per source and segment, and lifts those sources this week', async () => {
    const { db } = database;
    const last = new Date('2026-11-18T10:00:00Z');
    const now = new Date('2026-11-26T10:00:00Z');
    await db.transaction().execute((trx) =>
      upsertStories(trx, [
        makeStory({
          id: 'old-clicked',
          title: 'Quasar chips ship',
          source: { name: 'Clicked Daily', url: null },
          publishedAt: last,
        }),
        makeStory({
          id: 'new-clicked',
          title: 'Lumen robots walk',
          source: { name: 'Clicked Daily', url: null },
          publishedAt: now,
        }),
        makeStory({
          id: 'new-other',
          title: 'Ferro batteries charge',
          source: { name: 'Other Daily', url: null },
          publishedAt: now,
        }),
      ]),
    );
    const issue = await db
      .insertInto('issues')
      .values({ week: '2026-W47', status: 'sent' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('issue_links')
      .values({
        issue_id: issue.id,
        position: 1,
        url: 'https://news.example.com/old-clicked',
        story_id: 'old-clicked',
      })
      .execute();
    const subscriber = await db
      .insertInto('subscribers')
      .values({ email: 'reader@example.com' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const click = {
      kind: 'click' as const,
      issue_id: issue.id,
      subscriber_id: subscriber.id,
      link_position: 1,
    };
    await db
      .insertInto('tracking_events')
      .values([
        { ...click, class: 'human' },
        { ...click, class: 'human' },
        { ...click, class: 'scanner' },
      ])
      .execute();

    expect(await loadEngagement(db, '2026-W48')).toEqual({
      bySource: { 'Clicked Daily': 2 },
      byAudience: { Researchers: 2 },
    });
    expect(await loadEngagement(db, '2026-W47')).toBeNull();

    const build = await buildIssue(db, {
      week: '2026-W48',
      timeZone: 'UTC',
      storiesPerSegment: 7,
      minStoriesPerSegment: 3,
      now,
    });
    const stories = build.report.segments.find((s) => s.segment === 'Researchers')?.stories ?? [];
    const clicked = stories.find((s) => s.id === 'new-clicked');
    const other = stories.find((s) => s.id === 'new-other');
    expect(clicked?.scoreBreakdown.engagement).toBe(0.05);
    expect(other?.scoreBreakdown.engagement).toBe(0.025);
    expect(clicked?.reasons).toContain('readers clicked this source or topic before');
    expect(stories[0]?.id).toBe('new-clicked');
  });
});
