import { weekBounds } from '../../src/calendar/iso-week.ts';
import type { Db } from '../../src/db/database.ts';
import type { IssueContent, IssueStory } from '../../src/issues/issue-content.ts';
import { issueLinks } from '../../src/render/issue-links.ts';
import { upsertStories } from '../../src/stories/story.repository.ts';
import type { Story } from '../../src/stories/story.ts';
import { makeStory } from '../selection/story-factory.ts';

export const SOURCES = ['Reuters', 'The Verge', 'Wired', 'Ars Technica'];
const NAMES = ['Nimbus', 'Orion', 'Vega', 'Lyra'];
export const SEGMENT = 'Researchers';

/** Story `n` of a week: source and topic name rotate through four of each, so history can pick them apart. */
export function weekStory(week: string, n: number): Story {
  const source = SOURCES[n % 4] as string;
  const name = NAMES[n % 4] as string;
  return makeStory({
    id: `${week}-${n}`,
    title: `Lab ships ${name} model ${week.slice(-2)}${n}`,
    source: { name: source, url: null },
    audiences: [SEGMENT],
    tldr: { whatChanged: `The ${name} release changed.`, whyItMatters: 'It matters.', whatToDoNext: null },
    keyTakeaways: [],
  });
}

export interface SeededIssue {
  issueId: number;
  content: IssueContent;
  stories: Story[];
}

/**
 * One issue of `count` stories in the Researchers segment (scores falling with n), its items, and for
 * a `status` other than approved its link registry (as the freeze of a sent issue stored it).
 */
export async function seedIssue(
  db: Db,
  week: string,
  count: number,
  options: { status?: 'approved' | 'sent'; pinned?: number[]; update?: { n: number; of: string } } = {},
): Promise<SeededIssue> {
  const stories = Array.from({ length: count }, (_, n) => weekStory(week, n));
  await db.transaction().execute((trx) => upsertStories(trx, stories));
  const segment = await db
    .selectFrom('segments')
    .select(['id', 'name', 'slug'])
    .where('name', '=', SEGMENT)
    .executeTakeFirstOrThrow();
  const issue = await db
    .insertInto('issues')
    .values({ week, status: options.status ?? 'approved' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const picked: IssueStory[] = stories.map((story, n) => ({
    story,
    score: 1 - n / 100,
    fallback: false,
    alsoCoveredBy: [],
    reasons: options.pinned?.includes(n) ? ['pinned by editor'] : ['test'],
    scoreBreakdown: { relevance: 1 },
    ...(options.update?.n === n
      ? {
          update: {
            storyId: options.update.of,
            issueId: 0,
            week: '2026-W46',
            title: 'Earlier',
            url: 'https://recap.example.test/archive/2026-W46',
            newEvents: [],
          },
        }
      : {}),
  }));
  await db
    .insertInto('issue_items')
    .values(
      picked.map((item, position) => ({
        issue_id: issue.id,
        segment_id: segment.id,
        story_id: item.story.id,
        position,
        score: item.score,
      })),
    )
    .execute();
  const [year, weekNumber] = week.split('-W').map(Number) as [number, number];
  const { start, end } = weekBounds({ year, week: weekNumber }, 'UTC');
  const content: IssueContent = {
    issueId: issue.id,
    week,
    weekStart: start,
    weekEnd: end,
    timeZone: 'UTC',
    sections: [{ segment, skipped: false, skipReason: null, stories: picked }],
    developing: [],
  };
  if (options.status === 'sent') {
    await db
      .insertInto('issue_links')
      .values(
        issueLinks(content).map((link) => ({
          issue_id: issue.id,
          position: link.position,
          url: link.url,
          story_id: link.storyId,
          kind: link.kind,
        })),
      )
      .execute();
  }
  return { issueId: issue.id, content, stories };
}

/** Readers of the Researchers segment; tracked unless named in `untracked`. Ids by name. */
export async function addReaders(
  db: Db,
  names: readonly string[],
  untracked: readonly string[] = [],
): Promise<Map<string, string>> {
  const segment = await db
    .selectFrom('segments')
    .select('id')
    .where('name', '=', SEGMENT)
    .executeTakeFirstOrThrow();
  const rows = await db
    .insertInto('subscribers')
    .values(
      names.map((name) => ({
        email: `${name}@example.test`,
        name,
        tracking_enabled: !untracked.includes(name),
      })),
    )
    .returning(['id', 'name'])
    .execute();
  await db
    .insertInto('subscriptions')
    .values(rows.map((row) => ({ subscriber_id: row.id, segment_id: segment.id })))
    .execute();
  return new Map(rows.map((row) => [row.name as string, row.id]));
}

/** A sent delivery of an earlier issue to each reader (what the reader was shown). */
export async function addSentDeliveries(
  db: Db,
  issue: SeededIssue,
  subscriberIds: readonly string[],
): Promise<void> {
  await db
    .insertInto('deliveries')
    .values(
      subscriberIds.map((id) => ({
        issue_id: issue.issueId,
        subscriber_id: id,
        segment_key: 'researchers',
        message_id: `<recap.${issue.content.week}.${id}@news.example.test>`,
        status: 'sent' as const,
        tracked: true,
      })),
    )
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/** Human clicks of a reader on the story links of an earlier issue (as the rollups hold them), and its delivery. */
export async function addClicks(
  db: Db,
  issue: SeededIssue,
  subscriberId: string,
  storyIds: readonly string[],
): Promise<void> {
  await addSentDeliveries(db, issue, [subscriberId]);
  const links = await db
    .selectFrom('issue_links')
    .select(['position', 'story_id'])
    .where('issue_id', '=', issue.issueId)
    .where('kind', '=', 'story')
    .where('story_id', 'in', [...storyIds])
    .execute();
  if (links.length === 0) throw new Error('no story links to click');
  await db
    .insertInto('event_link_readers')
    .values(
      links.map((link) => ({
        issue_id: issue.issueId,
        link_position: link.position,
        subscriber_id: subscriberId,
        clicks: 1,
      })),
    )
    .execute();
}
