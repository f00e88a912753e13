import { civilDayOf, parseIsoWeek, weekBounds } from '../calendar/iso-week.ts';
import type { Db } from '../db/database.ts';
import { issueArchiveUrl } from '../render/archive-url.ts';
import { selectIssue, UPDATE_LOOKBACK_ISSUES } from '../selection/select-issue.ts';
import type { EarlierIssue, Selection, SelectionOverride } from '../selection/selection.ts';
import { selectionConfig } from '../selection/selection-config.ts';
import type { AuthorityTable } from '../selection/source-authority.ts';
import { listSegments, loadStoriesBetween, loadStoriesByIds } from '../stories/story.repository.ts';
import { loadEngagement } from './engagement.repository.ts';
import { loadIssueContent } from './issue-content.repository.ts';
import type { IssueContent } from './issue-content.ts';
import { listOverrides } from './issue-overrides.repository.ts';
import { type IssueReport, selectionReport } from './issue-report.ts';

export interface BuildIssueOptions {
  week: string;
  timeZone: string;
  storiesPerSegment: number;
  minStoriesPerSegment: number;
  now: Date;
  /** Source authority entries replacing the defaults (src/selection/source-authority.ts). */
  authority?: AuthorityTable;
  /** PUBLIC_URL: an update's link to its earlier coverage is that issue's archive page (default: a local address). */
  publicUrl?: string;
}

/** The part of the configuration a build reads (Config has it). */
export interface BuildSettings {
  timeZone: string;
  publicUrl?: string;
  selection: {
    storiesPerSegment: number;
    minStoriesPerSegment: number;
    authority?: AuthorityTable | undefined;
  };
}

/**
 * The build options every caller takes from the configuration: one place, so no caller leaves one out
 * (the schedule and the editor's Rebuild once built without RECAP_SOURCE_AUTHORITY_FILE).
 */
export function buildSettingsOf(config: BuildSettings): Omit<BuildIssueOptions, 'week' | 'now'> {
  const { storiesPerSegment, minStoriesPerSegment, authority } = config.selection;
  return {
    timeZone: config.timeZone,
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
    storiesPerSegment,
    minStoriesPerSegment,
    ...(authority ? { authority } : {}),
  };
}

export interface IssueBuild {
  content: IssueContent;
  report: IssueReport;
  /** False when the issue was already approved (or further) and the stored selection was returned. */
  rebuilt: boolean;
}

const INSERT_CHUNK = 500;

/**
 * Builds (or rebuilds) a week's issue: loads the week's stories, the previous issue's stories, the
 * editor's overrides and past clicks, runs the pure selection, then in one transaction creates the issue
 * if missing and replaces its items. Idempotent. An issue that is no longer a draft is frozen: its stored
 * selection is returned unchanged. Throws for a malformed week.
 */
export async function buildIssue(db: Db, options: BuildIssueOptions): Promise<IssueBuild> {
  const isoWeek = parseIsoWeek(options.week);
  if (!isoWeek) throw new Error(`not an ISO week: ${options.week}`);
  const existing = await db
    .selectFrom('issues')
    .select('status')
    .where('week', '=', options.week)
    .executeTakeFirst();
  if (existing && existing.status !== 'draft') return storedBuild(db, options);

  const { start, end } = weekBounds(isoWeek, options.timeZone);
  const stories = await loadStoriesBetween(db, start, end);
  const segments = await listSegments(db);
  const earlier = await loadEarlierIssues(
    db,
    options.week,
    options.timeZone,
    options.publicUrl ?? DEFAULT_PUBLIC_URL,
  );
  const overrides: SelectionOverride[] = await listOverrides(db, options.week);
  const engagement = await loadEngagement(db, options.week);
  const selection = selectIssue({
    week: options.week,
    timeZone: options.timeZone,
    now: options.now,
    segments,
    stories,
    earlier,
    overrides,
    engagement,
    config: selectionConfig({
      storiesPerSegment: options.storiesPerSegment,
      minStoriesPerSegment: options.minStoriesPerSegment,
      ...(options.authority ? { authority: options.authority } : {}),
    }),
  });
  const report = selectionReport(selection);

  const frozen = await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('issues')
      .values({ week: options.week })
      .onConflict((oc) => oc.column('week').doNothing())
      .execute();
    const issue = await trx
      .selectFrom('issues')
      .select(['id', 'status'])
      .where('week', '=', options.week)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (issue.status !== 'draft') return true;
    await trx.deleteFrom('issue_items').where('issue_id', '=', issue.id).execute();
    const rows = itemRows(issue.id, selection);
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      await trx
        .insertInto('issue_items')
        .values(rows.slice(i, i + INSERT_CHUNK))
        .execute();
    }
    await trx
      .updateTable('issues')
      .set({ built_at: options.now, selection_report: JSON.stringify(report), content_snapshot: null })
      .where('id', '=', issue.id)
      .execute();
    return false;
  });
  if (frozen) return storedBuild(db, options);
  const content = (await loadIssueContent(db, options.week, options.timeZone)) as IssueContent;
  return { content, report, rebuilt: true };
}

/** The issue_items rows of a selection: each segment's stories in order, with their explanation. */
function itemRows(issueId: number, selection: Selection) {
  return selection.segments.flatMap((segment) =>
    segment.stories.map((item, position) => ({
      issue_id: issueId,
      segment_id: segment.segment.id,
      story_id: item.story.id,
      position,
      score: item.score,
      fallback: item.fallback,
      also_covered_by: JSON.stringify(item.alsoCoveredBy),
      reasons: JSON.stringify(item.reasons),
      score_breakdown: JSON.stringify(item.scoreBreakdown),
      cluster_id: item.clusterId,
      update_of: item.update ? JSON.stringify(item.update) : null,
    })),
  );
}

/** The selection as stored, for an issue past draft. */
async function storedBuild(db: Db, options: BuildIssueOptions): Promise<IssueBuild> {
  const content = (await loadIssueContent(db, options.week, options.timeZone)) as IssueContent;
  const row = await db
    .selectFrom('issues')
    .select('selection_report')
    .where('week', '=', options.week)
    .executeTakeFirst();
  const report = (row?.selection_report as IssueReport | null) ?? reportFromContent(content);
  return { content, report, rebuilt: false };
}

/** A report rebuilt from stored items when the issue carries none (e.g. created by an older version). */
export function reportFromContent(content: IssueContent): IssueReport {
  return {
    week: content.week,
    segments: content.sections.map((section) => ({
      segment: section.segment.name,
      skipped: section.skipped,
      ...(section.skipReason ? { skipReason: section.skipReason } : {}),
      stories: section.stories.map((item) => ({
        id: item.story.id,
        title: item.story.title,
        score: Math.round(item.score * 1000) / 1000,
        fallback: item.fallback,
        alsoCoveredBy: item.alsoCoveredBy,
        reasons: item.reasons,
        scoreBreakdown: item.scoreBreakdown,
        ...(item.update ? { update: item.update } : {}),
      })),
    })),
  };
}

/** Where earlier coverage links point when the build is not told the public address (tests, scripts). */
const DEFAULT_PUBLIC_URL = 'http://localhost:3000';

/**
 * The last UPDATE_LOOKBACK_ISSUES issues before `week` that went out (or were approved to), newest first,
 * each with its stories as they are now (so a timeline that grew since is seen), the day it went out
 * (its send's start, or its week's last day when it went out after the week: what it covered ends there)
 * and its archive page.
 */
async function loadEarlierIssues(
  db: Db,
  week: string,
  timeZone: string,
  publicUrl: string,
): Promise<EarlierIssue[]> {
  const issues = await db
    .selectFrom('issues')
    .select(['id', 'week', 'send_started_at'])
    .where('week', '<', week)
    .where('status', 'not in', ['draft', 'cancelled'])
    .orderBy('week', 'desc')
    .limit(UPDATE_LOOKBACK_ISSUES)
    .execute();
  if (issues.length === 0) return [];
  const items = await db
    .selectFrom('issue_items')
    .select(['issue_id', 'story_id'])
    .distinct()
    .where(
      'issue_id',
      'in',
      issues.map((i) => i.id),
    )
    .execute();
  const stories = new Map(
    (await loadStoriesByIds(db, [...new Set(items.map((r) => r.story_id))])).map((s) => [s.id, s]),
  );
  return issues.map((issue) => {
    const isoWeek = parseIsoWeek(issue.week);
    const lastDay = isoWeek
      ? civilDayOf(new Date(weekBounds(isoWeek, timeZone).end.getTime() - 1), timeZone)
      : '9999-12-31';
    const sentDay = issue.send_started_at ? civilDayOf(issue.send_started_at, timeZone) : lastDay;
    return {
      issueId: issue.id,
      week: issue.week,
      sentOn: [sentDay, lastDay].sort()[0] as string,
      url: issueArchiveUrl(publicUrl, issue.week),
      stories: items
        .filter((item) => item.issue_id === issue.id)
        .map((item) => stories.get(item.story_id))
        .filter((story) => story !== undefined),
    };
  });
}
