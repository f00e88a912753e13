import { type RawBuilder, sql } from 'kysely';
import type { Db, IssueStatus } from '../db/database.ts';

/**
 * The numbers of one issue or one segment of it. Opens and clicks count people (distinct subscribers),
 * humans by default; machine opens (privacy proxies prefetching images), scanners (link checkers of
 * mail gateways) and unclassified events are shown beside them, never mixed in.
 */
export interface EngagementCounts {
  /** Delivery rows: everyone the issue was addressed to. */
  recipients: number;
  /** Accepted by the SMTP relay (including those that bounced later). */
  sent: number;
  failed: number;
  bounced: number;
  /** Still queued or waiting for a retry. */
  pending: number;
  /** Skipped or cancelled before sending (suppressed, unsubscribed meanwhile). */
  skipped: number;
  /** sent - bounced. */
  delivered: number;
  /** Delivery rows sent without pixel or tracked links, as the reader chose: nothing is known of their reading. */
  notTracked: number;
  /** Delivered and tracked: the denominator of the rates (fixed when the audience was frozen). */
  trackedDelivered: number;
  humanOpeners: number;
  machineOpeners: number;
  scannerOpeners: number;
  unknownOpeners: number;
  humanClickers: number;
  humanClicks: number;
  /** Clicks classed machine, scanner or unknown. */
  otherClicks: number;
  /** humanOpeners / trackedDelivered (0 when nothing tracked was delivered). */
  openRate: number;
  /** humanClickers / trackedDelivered. */
  clickRate: number;
  unsubscribes: number;
  complaints: number;
}

export interface SegmentStats extends EngagementCounts {
  /** The segment set the edition was rendered for ("builders+founders"). */
  segmentKey: string;
}

export interface LinkStats {
  position: number;
  url: string;
  kind: string;
  storyId: string | null;
  storyTitle: string | null;
  humanClicks: number;
  humanClickers: number;
  otherClicks: number;
}

export interface IssueStats {
  issueId: number;
  week: string;
  status: IssueStatus;
  sendStartedAt: Date | null;
  sendFinishedAt: Date | null;
  totals: EngagementCounts;
  segments: SegmentStats[];
  links: LinkStats[];
}

/**
 * Unsubscribes and complaints an issue caused: consent records naming the issue (the link carried its id),
 * else those made between this issue's send and the next one's by someone it was sent to.
 */
/** Unique human openers and clickers per issue of `issueIds` (a subquery of ids): the charts' and list's rates. */
export function humanEngagementByIssue(issueIds: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
    SELECT issue_id,
      count(DISTINCT subscriber_id) FILTER (WHERE kind = 'open' AND class = 'human') AS openers,
      count(DISTINCT subscriber_id) FILTER (WHERE kind = 'click' AND class = 'human') AS clickers
    FROM tracking_events WHERE issue_id IN (${issueIds}) GROUP BY issue_id`;
}

function attributedConsent(issueIds: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
    SELECT w.id AS issue_id, c.subscriber_id,
      bool_or(c.action = 'unsubscribe') AS unsubscribed,
      bool_or(c.action = 'complaint') AS complained
    FROM consent_log c
    JOIN (
      SELECT id, send_started_at AS from_at, lead(send_started_at) OVER (ORDER BY week) AS to_at FROM issues
    ) w ON (c.detail->>'issueId') = w.id::text
      OR ((c.detail->>'issueId') IS NULL AND w.from_at IS NOT NULL AND c.occurred_at >= w.from_at
          AND (w.to_at IS NULL OR c.occurred_at < w.to_at))
    JOIN deliveries d ON d.issue_id = w.id AND d.subscriber_id = c.subscriber_id
    WHERE c.action IN ('unsubscribe', 'complaint') AND w.id IN (${issueIds})
    GROUP BY w.id, c.subscriber_id`;
}

interface CountsRow {
  segment_key: string | null;
  is_total: number;
  recipients: string;
  sent: string;
  failed: string;
  bounced: string;
  pending: string;
  skipped: string;
  not_tracked: string;
  tracked_delivered: string;
  human_openers: string;
  machine_openers: string;
  scanner_openers: string;
  unknown_openers: string;
  human_clickers: string;
  human_clicks: string;
  other_clicks: string;
  unsubscribes: string;
  complaints: string;
}

/** The dashboard's numbers for one week's issue, or null when there is no issue for the week. Three queries. */
export async function loadIssueStats(db: Db, week: string): Promise<IssueStats | null> {
  const issue = await db
    .selectFrom('issues')
    .select(['id', 'week', 'status', 'send_started_at', 'send_finished_at'])
    .where('week', '=', week)
    .executeTakeFirst();
  if (!issue) return null;
  const id = issue.id;
  const counts = await sql<CountsRow>`
    WITH ev AS (
      SELECT subscriber_id,
        bool_or(kind = 'open' AND class = 'human') AS human_open,
        bool_or(kind = 'open' AND class = 'machine') AS machine_open,
        bool_or(kind = 'open' AND class = 'scanner') AS scanner_open,
        bool_or(kind = 'open' AND class = 'unknown') AS unknown_open,
        bool_or(kind = 'click' AND class = 'human') AS human_click,
        count(*) FILTER (WHERE kind = 'click' AND class = 'human') AS human_clicks,
        count(*) FILTER (WHERE kind = 'click' AND class <> 'human') AS other_clicks
      FROM tracking_events WHERE issue_id = ${id} GROUP BY subscriber_id
    ), cons AS (${attributedConsent(sql`${id}`)})
    SELECT d.segment_key, grouping(d.segment_key) AS is_total,
      count(*) AS recipients,
      count(*) FILTER (WHERE d.status IN ('sent', 'bounced')) AS sent,
      count(*) FILTER (WHERE d.status = 'failed') AS failed,
      count(*) FILTER (WHERE d.status = 'bounced') AS bounced,
      count(*) FILTER (WHERE d.status = 'queued') AS pending,
      count(*) FILTER (WHERE d.status IN ('skipped', 'cancelled')) AS skipped,
      count(*) FILTER (WHERE NOT d.tracked) AS not_tracked,
      count(*) FILTER (WHERE d.tracked AND d.status = 'sent') AS tracked_delivered,
      count(*) FILTER (WHERE ev.human_open) AS human_openers,
      count(*) FILTER (WHERE ev.machine_open) AS machine_openers,
      count(*) FILTER (WHERE ev.scanner_open) AS scanner_openers,
      count(*) FILTER (WHERE ev.unknown_open) AS unknown_openers,
      count(*) FILTER (WHERE ev.human_click) AS human_clickers,
      coalesce(sum(ev.human_clicks), 0) AS human_clicks,
      coalesce(sum(ev.other_clicks), 0) AS other_clicks,
      count(*) FILTER (WHERE cons.unsubscribed) AS unsubscribes,
      count(*) FILTER (WHERE cons.complained) AS complaints
    FROM deliveries d
    LEFT JOIN ev ON ev.subscriber_id = d.subscriber_id
    LEFT JOIN cons ON cons.subscriber_id = d.subscriber_id
    WHERE d.issue_id = ${id}
    GROUP BY GROUPING SETS ((d.segment_key), ())
    ORDER BY is_total DESC, d.segment_key`.execute(db);
  const links = await sql<{
    position: number;
    url: string;
    kind: string;
    story_id: string | null;
    story_title: string | null;
    human_clicks: string;
    human_clickers: string;
    other_clicks: string;
  }>`
    SELECT l.position, l.url, l.kind, l.story_id, s.title AS story_title,
      count(e.id) FILTER (WHERE e.class = 'human') AS human_clicks,
      count(DISTINCT e.subscriber_id) FILTER (WHERE e.class = 'human') AS human_clickers,
      count(e.id) FILTER (WHERE e.class <> 'human') AS other_clicks
    FROM issue_links l
    LEFT JOIN stories s ON s.id = l.story_id
    LEFT JOIN tracking_events e ON e.issue_id = l.issue_id AND e.kind = 'click' AND e.link_position = l.position
    WHERE l.issue_id = ${id}
    GROUP BY l.position, l.url, l.kind, l.story_id, s.title
    ORDER BY human_clicks DESC, l.position`.execute(db);

  const rows = counts.rows.map(countsRowToCounts);
  const totalIndex = counts.rows.findIndex((row) => Number(row.is_total) === 1);
  return {
    issueId: id,
    week: issue.week,
    status: issue.status,
    sendStartedAt: issue.send_started_at,
    sendFinishedAt: issue.send_finished_at,
    totals: totalIndex >= 0 ? (rows[totalIndex] as EngagementCounts) : emptyCounts(),
    segments: counts.rows.flatMap((row, i) =>
      Number(row.is_total) === 1
        ? []
        : [{ segmentKey: row.segment_key ?? '', ...(rows[i] as EngagementCounts) }],
    ),
    links: links.rows.map((row) => ({
      position: row.position,
      url: row.url,
      kind: row.kind,
      storyId: row.story_id,
      storyTitle: row.story_title,
      humanClicks: Number(row.human_clicks),
      humanClickers: Number(row.human_clickers),
      otherClicks: Number(row.other_clicks),
    })),
  };
}

/** One point of the week-over-week charts. */
export interface WeekPoint {
  week: string;
  issueId: number;
  status: IssueStatus;
  /** Recipients of the issue (delivery rows). */
  audience: number;
  delivered: number;
  /** Delivered with tracking: the rates' denominator. */
  trackedDelivered: number;
  openRate: number;
  clickRate: number;
  unsubscribes: number;
  complaints: number;
}

/** The last `limit` issues that have deliveries, oldest first, in one query. */
export async function loadWeeklySeries(db: Db, limit = 12): Promise<WeekPoint[]> {
  const result = await sql<{
    id: number;
    week: string;
    status: IssueStatus;
    recipients: string;
    delivered: string;
    tracked_delivered: string;
    openers: string;
    clickers: string;
    unsubscribes: string;
    complaints: string;
  }>`
    WITH recent AS (
      SELECT i.id, i.week, i.status FROM issues i
      WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.issue_id = i.id)
      ORDER BY i.week DESC LIMIT ${limit}
    ), d AS (
      SELECT issue_id, count(*) AS recipients, count(*) FILTER (WHERE status = 'sent') AS delivered,
        count(*) FILTER (WHERE status = 'sent' AND tracked) AS tracked_delivered
      FROM deliveries WHERE issue_id IN (SELECT id FROM recent) GROUP BY issue_id
    ), e AS (${humanEngagementByIssue(sql`SELECT id FROM recent`)}
    ), c AS (
      SELECT issue_id, count(*) FILTER (WHERE unsubscribed) AS unsubscribes, count(*) FILTER (WHERE complained) AS complaints
      FROM (${attributedConsent(sql`SELECT id FROM recent`)}) attributed GROUP BY issue_id
    )
    SELECT r.id, r.week, r.status,
      coalesce(d.recipients, 0) AS recipients, coalesce(d.delivered, 0) AS delivered,
      coalesce(d.tracked_delivered, 0) AS tracked_delivered, coalesce(e.openers, 0) AS openers, coalesce(e.clickers, 0) AS clickers,
      coalesce(c.unsubscribes, 0) AS unsubscribes, coalesce(c.complaints, 0) AS complaints
    FROM recent r
    LEFT JOIN d ON d.issue_id = r.id
    LEFT JOIN e ON e.issue_id = r.id
    LEFT JOIN c ON c.issue_id = r.id
    ORDER BY r.week`.execute(db);
  return result.rows.map((row) => {
    const trackedDelivered = Number(row.tracked_delivered);
    return {
      week: row.week,
      issueId: row.id,
      status: row.status,
      audience: Number(row.recipients),
      delivered: Number(row.delivered),
      trackedDelivered,
      openRate: rate(Number(row.openers), trackedDelivered),
      clickRate: rate(Number(row.clickers), trackedDelivered),
      unsubscribes: Number(row.unsubscribes),
      complaints: Number(row.complaints),
    };
  });
}

function countsRowToCounts(row: CountsRow): EngagementCounts {
  const n = (value: string) => Number(value);
  const sent = n(row.sent);
  const bounced = n(row.bounced);
  const delivered = sent - bounced;
  const trackedDelivered = n(row.tracked_delivered);
  return {
    recipients: n(row.recipients),
    sent,
    failed: n(row.failed),
    bounced,
    pending: n(row.pending),
    skipped: n(row.skipped),
    delivered,
    notTracked: n(row.not_tracked),
    trackedDelivered,
    humanOpeners: n(row.human_openers),
    machineOpeners: n(row.machine_openers),
    scannerOpeners: n(row.scanner_openers),
    unknownOpeners: n(row.unknown_openers),
    humanClickers: n(row.human_clickers),
    humanClicks: n(row.human_clicks),
    otherClicks: n(row.other_clicks),
    openRate: rate(n(row.human_openers), trackedDelivered),
    clickRate: rate(n(row.human_clickers), trackedDelivered),
    unsubscribes: n(row.unsubscribes),
    complaints: n(row.complaints),
  };
}

function emptyCounts(): EngagementCounts {
  return countsRowToCounts({
    segment_key: null,
    is_total: 1,
    recipients: '0',
    sent: '0',
    failed: '0',
    bounced: '0',
    pending: '0',
    skipped: '0',
    not_tracked: '0',
    tracked_delivered: '0',
    human_openers: '0',
    machine_openers: '0',
    scanner_openers: '0',
    unknown_openers: '0',
    human_clickers: '0',
    human_clicks: '0',
    other_clicks: '0',
    unsubscribes: '0',
    complaints: '0',
  });
}

function rate(part: number, whole: number): number {
  return whole > 0 ? part / whole : 0;
}
