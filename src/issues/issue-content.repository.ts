import { sql } from 'kysely';
import type { Db, Tx } from '../db/database.ts';
import { timelineDateInWeek } from '../selection/timeline-in-week.ts';
import { listSegments, loadStoriesByIds, resolveRelatedStories } from '../stories/story.repository.ts';
import { type IsoWeek, parseIsoWeek, weekBounds } from './iso-week.ts';
import type { DevelopingStory, IssueContent, IssueSection, IssueStory } from './issue-content.ts';
import type { IssueReport } from './issue-report.ts';

/** At most this many "developing" stories per issue, the latest events first. */
const DEVELOPING_LIMIT = 10;

/**
 * The stored issue of a week as the renderer and the preview receive it: a section per segment (in
 * segment order; a segment without stories is skipped, with the reason the build gave), each story with
 * its explanation, plus the developing stories. Null when the week has no issue. Throws for a malformed week.
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
    .select(['id', 'selection_report'])
    .where('week', '=', week)
    .executeTakeFirst();
  if (!issue) return null;
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
  const shown = new Set(items.map((i) => i.story_id));
  const developing = (await loadDevelopingStories(db, isoWeek, timeZone, start, end)).filter(
    (d) => !shown.has(d.story.id),
  );
  return { issueId: issue.id, week, weekStart: start, weekEnd: end, timeZone, sections, developing };
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
