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
  /** People who opened or clicked as humans (each counted once). */
  humanReaders: number;
  /** Delivered messages that carried tracking (the denominator for rates over tracked mail). */
  trackedDelivered: number;
  segments: SegmentStats[];
  links: LinkStats[];
}

/**
 * Unique human openers, clickers and readers (either) per issue of `issueIds` (a subquery of ids), from
 * the event rollups: the charts' and list's rates. Reads a few rows per issue, never raw events.
 */
export function humanEngagementByIssue(issueIds: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
    SELECT issue_id,
      coalesce(sum(readers) FILTER (WHERE kind = 'open' AND class = 'human'), 0) AS openers,
      coalesce(sum(readers) FILTER (WHERE kind = 'click' AND class = 'human'), 0) AS clickers,
      coalesce(sum(readers) FILTER (WHERE kind = 'any' AND class = 'human'), 0) AS human_readers
    FROM issue_event_rollups WHERE issue_id IN (${issueIds}) GROUP BY issue_id`;
}

/** Deliveries per issue of `issueIds` from the delivery rollups (recipients, outcomes, tracked delivered). */
export function deliveriesByIssue(issueIds: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
    SELECT issue_id, sum(deliveries) AS recipients,
      coalesce(sum(deliveries) FILTER (WHERE status IN ('sent', 'bounced')), 0) AS sent,
      coalesce(sum(deliveries) FILTER (WHERE status = 'sent'), 0) AS delivered,
      coalesce(sum(deliveries) FILTER (WHERE status = 'sent' AND tracked), 0) AS tracked_delivered,
      coalesce(sum(deliveries) FILTER (WHERE status = 'failed'), 0) AS failed,
      coalesce(sum(deliveries) FILTER (WHERE status = 'queued'), 0) AS pending
    FROM issue_delivery_rollups WHERE issue_id IN (${issueIds}) GROUP BY issue_id`;
}

/**
 * Unsubscribes and complaints per issue of `issueIds`, from issue_opt_outs (attributed when the consent
 * record was written: see migration 20261130080000). A few rows per issue.
 */
function optOutsByIssue(issueIds: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
    SELECT issue_id, count(*) FILTER (WHERE unsubscribed) AS unsubscribes,
      count(*) FILTER (WHERE complained) AS complaints
    FROM issue_opt_outs WHERE issue_id IN (${issueIds}) GROUP BY issue_id`;
}

interface CountsRow {
  recipients: number;
  sent: number;
  failed: number;
  bounced: number;
  pending: number;
  skipped: number;
  human_openers: number;
  machine_openers: number;
  scanner_openers: number;
  unknown_openers: number;
  human_clickers: number;
  human_clicks: number;
  other_clicks: number;
  unsubscribes: number;
  complaints: number;
}

type Tally = CountsRow & { human_readers: number; tracked_delivered: number; not_tracked: number };

function emptyTally(): Tally {
  return {
    recipients: 0,
    sent: 0,
    failed: 0,
    bounced: 0,
    pending: 0,
    skipped: 0,
    human_openers: 0,
    machine_openers: 0,
    scanner_openers: 0,
    unknown_openers: 0,
    human_clickers: 0,
    human_clicks: 0,
    other_clicks: 0,
    unsubscribes: 0,
    complaints: 0,
    human_readers: 0,
    tracked_delivered: 0,
    not_tracked: 0,
  };
}

function addDeliveries(tally: Tally, status: string, tracked: boolean, n: number): void {
  tally.recipients += n;
  if (status === 'sent' || status === 'bounced') tally.sent += n;
  if (status === 'sent' && tracked) tally.tracked_delivered += n;
  if (!tracked) tally.not_tracked += n;
  if (status === 'failed') tally.failed += n;
  if (status === 'bounced') tally.bounced += n;
  if (status === 'queued') tally.pending += n;
  if (status === 'skipped' || status === 'cancelled') tally.skipped += n;
}

function addEvents(tally: Tally, kind: string, cls: string, events: number, readers: number): void {
  if (kind === 'open') {
    if (cls === 'human') tally.human_openers += readers;
    else if (cls === 'machine') tally.machine_openers += readers;
    else if (cls === 'scanner') tally.scanner_openers += readers;
    else tally.unknown_openers += readers;
  } else if (kind === 'click') {
    if (cls === 'human') {
      tally.human_clickers += readers;
      tally.human_clicks += events;
    } else tally.other_clicks += events;
  } else if (kind === 'any' && cls === 'human') tally.human_readers += readers;
}

/**
 * The dashboard's numbers for one week's issue, or null when there is no issue for the week. Reads the
 * rollups (a few rows per segment set, link and opt-out): its cost does not grow with the number of
 * deliveries or events.
 */
// Long: one report assembled from the rollup queries it runs side by side.
export async function loadIssueStats(db: Db, week: string): Promise<IssueStats | null> {
  const issue = await db
    .selectFrom('issues')
    .select(['id', 'week', 'status', 'send_started_at', 'send_finished_at'])
    .where('week', '=', week)
    .executeTakeFirst();
  if (!issue) return null;
  const id = issue.id;
  const [deliveries, events, consent, links] = await Promise.all([
    sql<{ segment_key: string; status: string; tracked: boolean; n: number }>`
      SELECT segment_key, status, tracked, sum(deliveries) AS n FROM issue_delivery_rollups
      WHERE issue_id = ${id} GROUP BY segment_key, status, tracked
      ORDER BY segment_key`.execute(db),
    sql<{ segment_key: string; kind: string; class: string; events: string; readers: string }>`
      SELECT segment_key, kind, class, events, readers FROM issue_event_rollups WHERE issue_id = ${id}`.execute(
      db,
    ),
    sql<{ segment_key: string; unsubscribes: string; complaints: string }>`
      SELECT segment_key, count(*) FILTER (WHERE unsubscribed) AS unsubscribes,
        count(*) FILTER (WHERE complained) AS complaints
      FROM issue_opt_outs WHERE issue_id = ${id} GROUP BY segment_key`.execute(db),
    sql<{
      position: number;
      url: string;
      kind: string;
      story_id: string | null;
      story_title: string | null;
      human_clicks: number;
      human_clickers: number;
      other_clicks: number;
    }>`
      SELECT l.position, l.url, l.kind, l.story_id, s.title AS story_title,
        coalesce(sum(r.clicks) FILTER (WHERE r.class = 'human'), 0) AS human_clicks,
        coalesce(sum(r.readers) FILTER (WHERE r.class = 'human'), 0) AS human_clickers,
        coalesce(sum(r.clicks) FILTER (WHERE r.class <> 'human'), 0) AS other_clicks
      FROM issue_links l
      LEFT JOIN stories s ON s.id = l.story_id
      LEFT JOIN issue_link_rollups r ON r.issue_id = l.issue_id AND r.link_position = l.position
      WHERE l.issue_id = ${id}
      GROUP BY l.position, l.url, l.kind, l.story_id, s.title
      ORDER BY human_clicks DESC, l.position`.execute(db),
  ]);

  // Segment sets in the database's order of their keys; only those with deliveries are shown and
  // counted (events of someone without a delivery stay out, as they always did).
  const bySegment = new Map<string, Tally>();
  const totals = emptyTally();
  for (const row of deliveries.rows) {
    const n = Number(row.n);
    if (!bySegment.has(row.segment_key)) bySegment.set(row.segment_key, emptyTally());
    addDeliveries(bySegment.get(row.segment_key) as Tally, row.status, row.tracked, n);
    addDeliveries(totals, row.status, row.tracked, n);
  }
  for (const [key, tally] of bySegment) if (tally.recipients === 0) bySegment.delete(key);
  for (const row of events.rows) {
    const tally = bySegment.get(row.segment_key);
    if (!tally) continue;
    addEvents(tally, row.kind, row.class, Number(row.events), Number(row.readers));
    addEvents(totals, row.kind, row.class, Number(row.events), Number(row.readers));
  }
  for (const row of consent.rows) {
    const tally = bySegment.get(row.segment_key);
    for (const target of tally ? [tally, totals] : [totals]) {
      target.unsubscribes += Number(row.unsubscribes);
      target.complaints += Number(row.complaints);
    }
  }
  return {
    issueId: id,
    week: issue.week,
    status: issue.status,
    sendStartedAt: issue.send_started_at,
    sendFinishedAt: issue.send_finished_at,
    totals: countsRowToCounts(totals),
    humanReaders: totals.human_readers,
    trackedDelivered: totals.tracked_delivered,
    segments: [...bySegment].map(([segmentKey, tally]) => ({ segmentKey, ...countsRowToCounts(tally) })),
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
  /** Delivered messages that carried tracking. */
  trackedDelivered: number;
  /** People who opened or clicked as humans. */
  humanReaders: number;
  openRate: number;
  clickRate: number;
  unsubscribes: number;
  complaints: number;
}

/** The last `limit` issues that have deliveries, oldest first, in one query over the rollups. */
export async function loadWeeklySeries(db: Db, limit = 12): Promise<WeekPoint[]> {
  const result = await sql<{
    id: number;
    week: string;
    status: IssueStatus;
    recipients: number;
    delivered: number;
    tracked_delivered: number;
    openers: number;
    clickers: number;
    human_readers: number;
    unsubscribes: string;
    complaints: string;
  }>`
    WITH recent AS (
      SELECT i.id, i.week, i.status FROM issues i
      WHERE (SELECT sum(r.deliveries) FROM issue_delivery_rollups r WHERE r.issue_id = i.id) > 0
      ORDER BY i.week DESC LIMIT ${limit}
    ), d AS (${deliveriesByIssue(sql`SELECT id FROM recent`)}
    ), e AS (${humanEngagementByIssue(sql`SELECT id FROM recent`)}
    ), c AS (${optOutsByIssue(sql`SELECT id FROM recent`)}
    )
    SELECT r.id, r.week, r.status,
      coalesce(d.recipients, 0) AS recipients, coalesce(d.delivered, 0) AS delivered,
      coalesce(d.tracked_delivered, 0) AS tracked_delivered,
      coalesce(e.openers, 0) AS openers, coalesce(e.clickers, 0) AS clickers,
      coalesce(e.human_readers, 0) AS human_readers,
      coalesce(c.unsubscribes, 0) AS unsubscribes, coalesce(c.complaints, 0) AS complaints
    FROM recent r
    LEFT JOIN d ON d.issue_id = r.id
    LEFT JOIN e ON e.issue_id = r.id
    LEFT JOIN c ON c.issue_id = r.id
    ORDER BY r.week`.execute(db);
  return result.rows.map((row) => {
    const delivered = Number(row.delivered);
    return {
      week: row.week,
      issueId: row.id,
      status: row.status,
      audience: Number(row.recipients),
      delivered,
      trackedDelivered: Number(row.tracked_delivered),
      humanReaders: Number(row.human_readers),
      // Over tracked deliveries: readers who chose no tracking are neither openers nor non-openers.
      openRate: rate(Number(row.openers), Number(row.tracked_delivered)),
      clickRate: rate(Number(row.clickers), Number(row.tracked_delivered)),
      unsubscribes: Number(row.unsubscribes),
      complaints: Number(row.complaints),
    };
  });
}

function countsRowToCounts(row: Tally): EngagementCounts {
  const delivered = row.sent - row.bounced;
  const trackedDelivered = row.tracked_delivered;
  return {
    recipients: row.recipients,
    sent: row.sent,
    failed: row.failed,
    bounced: row.bounced,
    pending: row.pending,
    skipped: row.skipped,
    delivered,
    notTracked: row.not_tracked,
    trackedDelivered,
    humanOpeners: row.human_openers,
    machineOpeners: row.machine_openers,
    scannerOpeners: row.scanner_openers,
    unknownOpeners: row.unknown_openers,
    humanClickers: row.human_clickers,
    humanClicks: row.human_clicks,
    otherClicks: row.other_clicks,
    openRate: rate(row.human_openers, trackedDelivered),
    clickRate: rate(row.human_clickers, trackedDelivered),
    unsubscribes: row.unsubscribes,
    complaints: row.complaints,
  };
}

function rate(part: number, whole: number): number {
  return whole > 0 ? part / whole : 0;
}
