import { buildIssue } from '../../src/issues/build-issue.ts';
import { freezeIssueContent } from '../../src/issues/issue-content.repository.ts';
import { upsertStories } from '../../src/stories/story.repository.ts';
import { seedWeek, WEEK, weekStories } from '../editor/editor-seed.ts';
import type { TestDatabase } from '../support/database.ts';

export { WEEK };
/** The week before WEEK, with its own stories. */
export const EARLIER_WEEK = '2026-W46';
/** Headlines of the earlier week, unlike WEEK's so no story clusters with one of them. */
export const EARLIER_TITLES = [
  'Robotics lab opens its grasping dataset',
  'Court hears first training-data copyright case',
  'Speech model runs offline on phones',
  'Regulator consults on chatbot disclosures',
  'Vector database adds hybrid search',
  'University releases protein folding model',
];
export const SENT_KEYS = ['engineers-developers', 'engineers-developers+policy-legal'];

/**
 * Two sent issues (EARLIER_WEEK, WEEK) built from real stories, each with deliveries of SENT_KEYS
 * marked sent, plus an approved (unpublished) issue of the following week. Readers as seedWeek makes them.
 */
export async function seedSentIssues(t: TestDatabase): Promise<void> {
  await seedWeek(t);
  const earlier = weekStories().map((story, i) => ({
    ...story,
    id: `earlier-${i + 1}`,
    title: EARLIER_TITLES[i] ?? `Earlier story ${i + 1}`,
    tldr: { ...story.tldr, whatChanged: `${EARLIER_TITLES[i]}: what changed.` },
    url: `https://old${i + 1}.example.com/a/${i + 1}`,
    canonicalUrl: `https://old${i + 1}.example.com/a/${i + 1}`,
    publishedAt: new Date((story.publishedAt?.getTime() ?? 0) - 7 * 86_400_000),
  }));
  await t.db.transaction().execute((trx) => upsertStories(trx, earlier));
  const readers = await t.db.selectFrom('subscribers').select('id').orderBy('id').execute();
  for (const week of [EARLIER_WEEK, WEEK]) {
    await buildIssue(t.db, {
      week,
      timeZone: 'UTC',
      storiesPerSegment: 5,
      minStoriesPerSegment: 1,
      now: new Date('2026-11-23T07:00:00Z'),
    });
    await freezeIssueContent(t.db, week, 'UTC');
    const issue = await t.db
      .updateTable('issues')
      .set({
        status: 'sent',
        send_started_at: new Date(week === WEEK ? '2026-11-23T08:00:00Z' : '2026-11-16T08:00:00Z'),
      })
      .where('week', '=', week)
      .returning('id')
      .executeTakeFirstOrThrow();
    await t.db
      .insertInto('deliveries')
      .values(
        readers.slice(0, 2).map((reader, i) => ({
          issue_id: issue.id,
          subscriber_id: reader.id,
          segment_key: SENT_KEYS[i] ?? '',
          status: 'sent' as const,
          message_id: `<recap.${issue.id}.${reader.id}@example.com>`,
          sent_at: new Date(),
        })),
      )
      .execute();
  }
  await t.db.insertInto('issues').values({ week: '2026-W48', status: 'approved' }).execute();
}
