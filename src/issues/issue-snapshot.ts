import type { Db, IssueStatus, Tx } from '../db/database.ts';
import { linkPositionSchemeOf } from '../render/issue-links.ts';
import type { Story } from '../stories/story.ts';
import type { IssueContent } from './issue-content.ts';

/** Issues whose content may still change: a retracted story leaves them. Later states keep what was sent. */
export const UNSENT_STATUSES: readonly IssueStatus[] = ['draft', 'approved', 'scheduled'];

/** An issue's content as stored in `issues.content_snapshot` (JSON: dates as ISO strings). */
export function snapshotOf(content: IssueContent): string {
  return JSON.stringify({ ...content, linkPositions: linkPositionSchemeOf(content) });
}

function reviveStory(story: Story): Story {
  return {
    ...story,
    publishedAt: story.publishedAt ? new Date(story.publishedAt) : null,
    collectedAt: story.collectedAt ? new Date(story.collectedAt) : null,
  };
}

/**
 * The content a snapshot holds, dates revived; `issueId` is the row's (the snapshot never moves). A
 * snapshot without a link position scheme was taken before positions became indexes: 'hashed'.
 */
export function contentFromSnapshot(snapshot: unknown, issueId: number): IssueContent {
  const stored = snapshot as IssueContent;
  return {
    ...stored,
    issueId,
    linkPositions: stored.linkPositions ?? 'hashed',
    weekStart: new Date(stored.weekStart),
    weekEnd: new Date(stored.weekEnd),
    sections: stored.sections.map((section) => ({
      ...section,
      stories: section.stories.map((item) => ({ ...item, story: reviveStory(item.story) })),
    })),
    developing: stored.developing.map((item) => ({ ...item, story: reviveStory(item.story) })),
  };
}

/**
 * Takes retracted stories out of every issue not yet sent: their items, and their copy in the snapshot
 * of an approved issue. Sent (or sending) issues keep them; the editor flags them. Must run in the
 * transaction that retracted them.
 */
export async function withdrawFromUnsentIssues(trx: Tx, storyIds: readonly string[]): Promise<number> {
  if (storyIds.length === 0) return 0;
  const ids = new Set(storyIds);
  const issues = await trx
    .selectFrom('issues')
    .select(['id', 'content_snapshot'])
    .where('status', 'in', [...UNSENT_STATUSES])
    .where((eb) =>
      eb.or([
        eb.exists(
          eb
            .selectFrom('issue_items')
            .select('issue_items.story_id')
            .whereRef('issue_items.issue_id', '=', 'issues.id')
            .where('issue_items.story_id', 'in', [...ids]),
        ),
        eb('content_snapshot', 'is not', null),
      ]),
    )
    .forUpdate()
    .execute();
  let touched = 0;
  for (const issue of issues) {
    const removed = await trx
      .deleteFrom('issue_items')
      .where('issue_id', '=', issue.id)
      .where('story_id', 'in', [...ids])
      .executeTakeFirst();
    let changed = Number(removed.numDeletedRows) > 0;
    if (issue.content_snapshot) {
      const content = contentFromSnapshot(issue.content_snapshot, issue.id);
      const before = JSON.stringify(content);
      for (const section of content.sections) {
        section.stories = section.stories.filter((item) => !ids.has(item.story.id));
        if (section.stories.length === 0 && !section.skipped) {
          section.skipped = true;
          section.skipReason = `every story for ${section.segment.name} was retracted`;
        }
      }
      content.developing = content.developing.filter((item) => !ids.has(item.story.id));
      if (JSON.stringify(content) !== before) {
        changed = true;
        await trx
          .updateTable('issues')
          .set({ content_snapshot: snapshotOf(content) })
          .where('id', '=', issue.id)
          .execute();
      }
    }
    if (changed) touched += 1;
  }
  return touched;
}

/** Story ids of an issue that were retracted after it went out (for the editor's flag). */
export async function retractedStoriesOf(db: Db | Tx, issueId: number): Promise<Set<string>> {
  const rows = await db
    .selectFrom('issue_items')
    .innerJoin('stories', 'stories.id', 'issue_items.story_id')
    .select('stories.id')
    .where('issue_items.issue_id', '=', issueId)
    .where('stories.retracted_at', 'is not', null)
    .execute();
  return new Set(rows.map((row) => row.id));
}
