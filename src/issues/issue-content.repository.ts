import { sql } from 'kysely';
import { type IsoWeek, parseIsoWeek, weekBounds } from '../calendar/iso-week.ts';
import type { Db, Tx } from '../db/database.ts';
import { retryTransaction } from '../db/retry-transaction.ts';
import { timelineDateInWeek } from '../selection/timeline-in-week.ts';
import { listSegments, loadStoriesByIds, resolveRelatedStories } from '../stories/story.repository.ts';
import type {
  DevelopingStory,
  IssueContent,
  IssueSection,
  IssueStory,
  IssueStoryUpdate,
} from './issue-content.ts';
import type { IssueReport } from './issue-report.ts';
import { contentFromSnapshot, snapshotOf } from './issue-snapshot.ts';
import { loadIssueWriting } from './issue-writing.repository.ts';
import { loadSubjectVariants } from './subject-variants.repository.ts';

/** At most this many "developing" stories per issue, the latest events first. */
const DEVELOPING_LIMIT = 10;

/**
 * The stored issue of a week as the renderer and the preview receive it: a section per segment (in
 * segment order; a segment without stories is skipped, with the reason the build gave), each story with
 * its explanation, plus the developing stories. Null when the week has no issue. Throws for a malformed week.
 * Once the issue was approved or its send started, this is the snapshot taken then, whatever happened
 * to the stories since: every message of a send, the archive and the editor's view read the same content.
 */
export async function loadIssueContent(
  db: Db | Tx,
  week: string,
  timeZone: string,
): Promise<IssueContent | null> {
  const isoWeek = parseIsoWeek(week);
  if (!isoWeek) throw new Error(`not an ISO week: ${week}`);
  const issue = await db
    .selectFrom('issues')
    .select(['id', 'selection_report', 'content_snapshot'])
    .where('week', '=', week)
    .executeTakeFirst();
  if (!issue) return null;
  if (issue.content_snapshot) return contentFromSnapshot(issue.content_snapshot, issue.id);
  return loadLiveIssueContent(db, { id: issue.id, selection_report: issue.selection_report }, week, timeZone);
}

/**
 * Freezes a built issue's content into its snapshot, once: what the live stories say now is what every
 * later reader sees. Read in one repeatable-read transaction, so a story updated meanwhile is seen whole
 * or not at all. Idempotent: an issue with a snapshot (or none at all, or not built) is left as it is.
 */
export async function freezeIssueContent(db: Db, week: string, timeZone: string): Promise<void> {
  // Two racing sends both freeze: the second one's repeatable read fails (40001) and, run again, finds the snapshot.
  await retryTransaction(() =>
    db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        const issue = await trx
          .selectFrom('issues')
          .select(['id', 'selection_report', 'content_snapshot', 'built_at'])
          .where('week', '=', week)
          .forUpdate()
          .executeTakeFirst();
        if (!issue || issue.content_snapshot || issue.built_at === null) return;
        const content = await loadLiveIssueContent(trx, issue, week, timeZone);
        await trx
          .updateTable('issues')
          .set({ content_snapshot: snapshotOf(content) })
          .where('id', '=', issue.id)
          .execute();
      }),
  );
}

async function loadLiveIssueContent(
  db: Db | Tx,
  issue: { id: number; selection_report: unknown },
  week: string,
  timeZone: string,
): Promise<IssueContent> {
  const isoWeek = parseIsoWeek(week);
  if (!isoWeek) throw new Error(`not an ISO week: ${week}`);
  const { start, end } = weekBounds(isoWeek, timeZone);
  const items = await db
    .selectFrom('issue_items')
    .selectAll()
    .where('issue_id', '=', issue.id)
    .orderBy('segment_id')
    .orderBy('position')
    .execute();
  const [segments, stories] = await Promise.all([
    listSegments(db),
    loadStoriesByIds(
      db,
      items.map((i) => i.story_id),
    ).then((loaded) => resolveRelatedStories(db, loaded)),
  ]);
  const storyById = new Map(stories.map((s) => [s.id, s]));
  const report = issue.selection_report as IssueReport | null;
  const sections: IssueSection[] = segments.map((segment) => {
    const picked: IssueStory[] = items
      .filter((item) => item.segment_id === segment.id && storyById.has(item.story_id))
      .map((item) => ({
        story: storyById.get(item.story_id) as IssueStory['story'],
        score: item.score,
        fallback: item.fallback,
        alsoCoveredBy: item.also_covered_by,
        reasons: item.reasons,
        scoreBreakdown: item.score_breakdown,
        clusterId: item.cluster_id,
        ...(item.update_of ? { update: item.update_of as IssueStoryUpdate } : {}),
      }));
    const reported = report?.segments.find((s) => s.segment === segment.name);
    return {
      segment,
      skipped: picked.length === 0,
      skipReason:
        picked.length === 0 ? (reported?.skipReason ?? `no stories for ${segment.name} this week`) : null,
      stories: picked,
    };
  });
  // An earlier story an update continues is told by the update's card, not again under "Developing".
  const shown = new Set(items.map((i) => i.story_id));
  for (const section of sections)
    for (const item of section.stories) if (item.update) shown.add(item.update.storyId);
  const developing = (await loadDevelopingStories(db, isoWeek, timeZone, start, end)).filter(
    (d) => !shown.has(d.story.id),
  );
  const writing = await loadIssueWriting(db, week);
  const subjectVariants = await loadSubjectVariants(db, week);
  return {
    issueId: issue.id,
    week,
    weekStart: start,
    weekEnd: end,
    timeZone,
    sections,
    developing,
    writing,
    ...(subjectVariants.length > 0 ? { subjectVariants } : {}),
  };
}

/**
 * Stories from before the week whose timeline gained an event dated inside it. Only day-precise dates
 * count ('2026-11' could be any day); the text range below narrows the rows, the exact test is in code.
 */
export async function loadDevelopingStories(
  db: Db | Tx,
  week: IsoWeek,
  timeZone: string,
  start: Date,
  end: Date,
): Promise<DevelopingStory[]> {
  const day = 86_400_000;
  const from = new Date(start.getTime() - day).toISOString().slice(0, 10);
  const to = `${new Date(end.getTime() + day).toISOString().slice(0, 10)}~`;
  const rows = await db
    .selectFrom('story_timeline_events as t')
    .innerJoin('stories as s', 's.id', 't.story_id')
    .select(['t.story_id', 't.date', 't.event', 't.position'])
    .where(sql`coalesce(s.published_at, s.collected_at)`, '<', start)
    .where('s.retracted_at', 'is', null)
    .where('t.date', '>=', from)
    .where('t.date', '<=', to)
    .orderBy('t.date', 'desc')
    .orderBy('t.story_id')
    .orderBy('t.position')
    .execute();
  const latest = new Map<string, { date: string; event: string }>();
  for (const row of rows) {
    if (!latest.has(row.story_id) && timelineDateInWeek(row.date, week, timeZone)) {
      latest.set(row.story_id, { date: row.date, event: row.event });
    }
  }
  const ids = [...latest.keys()].slice(0, DEVELOPING_LIMIT);
  const stories = await loadStoriesByIds(db, ids);
  return stories.map((story) => ({ story, event: latest.get(story.id) as { date: string; event: string } }));
}

/** Each issue's lead headline: the title of its highest-scored story (any segment), by week. */
export async function leadHeadlines(db: Db | Tx, weeks: readonly string[]): Promise<Map<string, string>> {
  if (weeks.length === 0) return new Map();
  const rows = await db
    .selectFrom('issue_items')
    .innerJoin('issues', 'issues.id', 'issue_items.issue_id')
    .innerJoin('stories', 'stories.id', 'issue_items.story_id')
    .select(['issues.week', 'stories.title'])
    .distinctOn('issues.week')
    .where('issues.week', 'in', [...weeks])
    .orderBy('issues.week')
    .orderBy('issue_items.score', 'desc')
    .orderBy('issue_items.story_id')
    .execute();
  return new Map(rows.map((row) => [row.week, row.title]));
}
