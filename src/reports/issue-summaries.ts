import { sql } from 'kysely';
import type { Db, IssueStatus } from '../db/database.ts';
import { deliveriesByIssue, humanEngagementByIssue } from './issue-stats.ts';

/** One line of the editor's weeks list. */
export interface IssueSummary {
  issueId: number;
  week: string;
  status: IssueStatus;
  statusReason: string | null;
  builtAt: Date | null;
  approvedAt: Date | null;
  sendStartedAt: Date | null;
  sendFinishedAt: Date | null;
  /** Segments with at least one story / all segments of the issue. */
  segmentsFilled: number;
  segments: number;
  stories: number;
  recipients: number;
  sent: number;
  failed: number;
  pending: number;
  /** Delivered messages that carried tracking. */
  trackedDelivered: number;
  humanOpeners: number;
  humanClickers: number;
  /** People who opened or clicked as humans. */
  humanReaders: number;
}

/** Every issue, newest week first, with its counts: one query over the rollups whatever the number of issues, deliveries or events. */
export async function listIssueSummaries(db: Db, limit = 52): Promise<IssueSummary[]> {
  const result = await sql<{
    id: number;
    week: string;
    status: IssueStatus;
    status_reason: string | null;
    built_at: Date | null;
    approved_at: Date | null;
    send_started_at: Date | null;
    send_finished_at: Date | null;
    segments_filled: string;
    stories: string;
    recipients: string;
    sent: string;
    failed: string;
    pending: string;
    tracked_delivered: string;
    openers: string;
    clickers: string;
    human_readers: string;
  }>`
    WITH recent AS (SELECT * FROM issues ORDER BY week DESC LIMIT ${limit}),
    items AS (
      SELECT issue_id, count(DISTINCT segment_id) AS segments_filled, count(DISTINCT story_id) AS stories
      FROM issue_items WHERE issue_id IN (SELECT id FROM recent) GROUP BY issue_id
    ), d AS (${deliveriesByIssue(sql`SELECT id FROM recent`)}
    ), e AS (${humanEngagementByIssue(sql`SELECT id FROM recent`)}
    )
    SELECT r.id, r.week, r.status, r.status_reason, r.built_at, r.approved_at, r.send_started_at, r.send_finished_at,
      coalesce(items.segments_filled, 0) AS segments_filled, coalesce(items.stories, 0) AS stories,
      coalesce(d.recipients, 0) AS recipients, coalesce(d.sent, 0) AS sent, coalesce(d.failed, 0) AS failed,
      coalesce(d.pending, 0) AS pending, coalesce(d.tracked_delivered, 0) AS tracked_delivered,
      coalesce(e.openers, 0) AS openers, coalesce(e.clickers, 0) AS clickers,
      coalesce(e.human_readers, 0) AS human_readers
    FROM recent r
    LEFT JOIN items ON items.issue_id = r.id
    LEFT JOIN d ON d.issue_id = r.id
    LEFT JOIN e ON e.issue_id = r.id
    ORDER BY r.week DESC`.execute(db);
  const segmentCount = await db
    .selectFrom('segments')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return result.rows.map((row) => ({
    issueId: row.id,
    week: row.week,
    status: row.status,
    statusReason: row.status_reason,
    builtAt: row.built_at,
    approvedAt: row.approved_at,
    sendStartedAt: row.send_started_at,
    sendFinishedAt: row.send_finished_at,
    segmentsFilled: Number(row.segments_filled),
    segments: Number(segmentCount.n),
    stories: Number(row.stories),
    recipients: Number(row.recipients),
    sent: Number(row.sent),
    failed: Number(row.failed),
    pending: Number(row.pending),
    trackedDelivered: Number(row.tracked_delivered),
    humanOpeners: Number(row.openers),
    humanClickers: Number(row.clickers),
    humanReaders: Number(row.human_readers),
  }));
}
