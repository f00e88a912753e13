import { readFileSync } from 'node:fs';
import { weekBounds } from '../../src/calendar/iso-week.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import type { Db } from '../../src/db/database.ts';
import type { IssueContent, IssueStory } from '../../src/issues/issue-content.ts';
import type { Segment } from '../../src/stories/segment.ts';
import { upsertStories } from '../../src/stories/story.repository.ts';
import { storyFromInput, storyInputSchema } from '../../src/stories/story.ts';

export const WEEK = '2026-W48';

/** A configuration for tests: no .env, a fixed secret, everything else from `env`. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig(
    {
      NODE_ENV: 'test',
      RECAP_SECRET: 'test-secret-test-secret-test-secret-0123',
      PUBLIC_URL: 'https://recap.example.test',
      RECAP_FROM_EMAIL: 'recap@news.example.test',
      RECAP_DATA_DIR: '/tmp/recap-delivery-tests',
      SMTP_MAX_CONNECTIONS: '3',
      ...env,
    },
    { dotenvPath: '/nonexistent/.env' },
  );
}

export interface SeededSend {
  issueId: number;
  segments: Segment[];
  content: IssueContent;
  /** Subscriber ids by email. */
  subscribers: Map<string, string>;
}

/**
 * Two segments, three stories, `count` active subscribers (a third follow both segments) and an
 * approved issue for WEEK whose content is built in memory from the fixture story.
 */
export async function seedSend(
  db: Db,
  count: number,
  options: { week?: string; offset?: number } = {},
): Promise<SeededSend> {
  const week = options.week ?? WEEK;
  const base = JSON.parse(readFileSync(new URL('../../emails/fixtures/story.json', import.meta.url), 'utf8'));
  const names = ['Engineers & Developers', 'Researchers'];
  const stories = [0, 1, 2].map((n) =>
    storyFromInput(
      storyInputSchema.parse({
        ...base,
        id: `story-${n}`,
        title: `${base.title} (${n})`,
        url: `https://news.example.test/story-${n}`,
        audiences: n === 2 ? [names[1]] : names,
      }),
    ),
  );
  if (!(await db.selectFrom('stories').select('id').where('id', '=', 'story-0').executeTakeFirst())) {
    await db.transaction().execute((trx) => upsertStories(trx, stories));
  }
  const segments = await db
    .selectFrom('segments')
    .select(['id', 'name', 'slug'])
    .where('name', 'in', names)
    .orderBy('id')
    .execute();
  const issue = await db
    .insertInto('issues')
    .values({ week, status: 'approved' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const sections = segments.map((segment, index) => {
    const picked: IssueStory[] = stories
      .filter((story) => story.audiences.includes(segment.name))
      .map((story, position) => ({
        story,
        score: 1 - position / 10 - index / 100,
        fallback: false,
        alsoCoveredBy: [],
        reasons: ['test'],
        scoreBreakdown: { relevance: 1 },
      }));
    return { segment, skipped: false, skipReason: null, stories: picked };
  });
  const items = sections.flatMap((section) =>
    section.stories.map((item, position) => ({
      issue_id: issue.id,
      segment_id: section.segment.id,
      story_id: item.story.id,
      position,
      score: item.score,
    })),
  );
  await db.insertInto('issue_items').values(items).execute();
  const subscribers = await addSubscribers(db, segments, count, options.offset ?? 0);
  const { start, end } = weekBounds({ year: 2026, week: 48 }, 'UTC');
  const content: IssueContent = {
    issueId: issue.id,
    week,
    weekStart: start,
    weekEnd: end,
    timeZone: 'UTC',
    sections,
    developing: [],
  };
  return { issueId: issue.id, segments, content, subscribers };
}

/** `count` active subscribers reader{offset+i}@example.test, following one or both segments. */
export async function addSubscribers(
  db: Db,
  segments: Segment[],
  count: number,
  offset = 0,
): Promise<Map<string, string>> {
  if (count === 0) return new Map();
  const rows = await db
    .insertInto('subscribers')
    .values(
      Array.from({ length: count }, (_, i) => ({
        email: `reader${offset + i}@example.test`,
        name: `Reader ${offset + i}`,
      })),
    )
    .returning(['id', 'email'])
    .execute();
  const subscriptions = rows.flatMap((row, i) => {
    const [first, second] = segments as [Segment, Segment];
    if (i % 3 === 0) return [first, second].map((s) => ({ subscriber_id: row.id, segment_id: s.id }));
    return [{ subscriber_id: row.id, segment_id: (i % 3 === 1 ? first : second).id }];
  });
  await db.insertInto('subscriptions').values(subscriptions).execute();
  return new Map(rows.map((row) => [row.email, row.id]));
}
