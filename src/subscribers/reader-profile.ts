import { sql } from 'kysely';
import type { Db, DeliveryStatus, SubscriberStatus } from '../db/database.ts';

/** Consent records that suppressed an address, newest first: the reason shown beside the status. */
const SUPPRESSING_ACTIONS = ['suppressed-hard-bounce', 'suppressed-soft-bounces', 'complaint'];

export interface ReaderDelivery {
  week: string;
  segmentKey: string;
  status: DeliveryStatus;
  tracked: boolean;
  sentAt: Date | null;
  lastError: string | null;
  /** Human opens and clicks counted for this issue; `machineEvents`: the rest (scanners, proxies, unknown). */
  opens: number;
  clicks: number;
  machineEvents: number;
}

export interface ConsentRecord {
  action: string;
  occurredAt: Date;
  ip: string | null;
  userAgent: string | null;
  detail: Record<string, unknown>;
}

export interface ReaderProfile {
  id: string;
  email: string;
  name: string | null;
  timeZone: string | null;
  status: SubscriberStatus;
  trackingEnabled: boolean;
  pausedUntil: Date | null;
  createdAt: Date;
  confirmedAt: Date | null;
  unsubscribedAt: Date | null;
  softBounceCount: number;
  reengagementSentAt: Date | null;
  segmentIds: number[];
  deliveries: ReaderDelivery[];
  consent: ConsentRecord[];
  /** Why the address is suppressed (bounced or complained): the record that did it; null otherwise. */
  suppression: ConsentRecord | null;
}

/** The last deliveries and consent records shown (a year of weekly issues). */
const SHOWN = 60;

/** One reader with their segments, last deliveries (with opens and clicks) and consent log; null if unknown or erased. */
export async function loadReaderProfile(db: Db, id: string): Promise<ReaderProfile | null> {
  if (!/^\d{1,18}$/.test(id)) return null;
  const row = await db
    .selectFrom('subscribers')
    .selectAll()
    .where('id', '=', id)
    .where('status', '<>', 'erased')
    .executeTakeFirst();
  if (!row) return null;
  const [segments, deliveries, consent] = await Promise.all([
    db
      .selectFrom('subscriptions')
      .select('segment_id')
      .where('subscriber_id', '=', id)
      .orderBy('segment_id')
      .execute(),
    loadDeliveries(db, id),
    db
      .selectFrom('consent_log')
      .select(['action', 'occurred_at', 'ip', 'user_agent', 'detail'])
      .where('subscriber_id', '=', id)
      .orderBy('occurred_at', 'desc')
      .orderBy('id', 'desc')
      .limit(SHOWN)
      .execute(),
  ]);
  const records = consent.map((c) => ({
    action: c.action,
    occurredAt: c.occurred_at,
    ip: c.ip,
    userAgent: c.user_agent,
    detail: (c.detail ?? {}) as Record<string, unknown>,
  }));
  const suppressed = row.status === 'bounced' || row.status === 'complained';
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    timeZone: row.time_zone,
    status: row.status,
    trackingEnabled: row.tracking_enabled,
    pausedUntil: row.paused_until,
    createdAt: row.created_at,
    confirmedAt: row.confirmed_at,
    unsubscribedAt: row.unsubscribed_at,
    softBounceCount: row.soft_bounce_count,
    reengagementSentAt: row.reengagement_sent_at,
    segmentIds: segments.map((s) => s.segment_id),
    deliveries,
    consent: records,
    suppression: suppressed ? (records.find((r) => SUPPRESSING_ACTIONS.includes(r.action)) ?? null) : null,
  };
}

async function loadDeliveries(db: Db, subscriberId: string): Promise<ReaderDelivery[]> {
  const rows = await db
    .selectFrom('deliveries')
    .innerJoin('issues', 'issues.id', 'deliveries.issue_id')
    .leftJoin(
      (eb) =>
        eb
          .selectFrom('event_reader_counts')
          .select([
            'issue_id',
            sql<number>`coalesce(sum(events) FILTER (WHERE kind = 'open' AND class = 'human'), 0)::int`.as(
              'opens',
            ),
            sql<number>`coalesce(sum(events) FILTER (WHERE kind = 'click' AND class = 'human'), 0)::int`.as(
              'clicks',
            ),
            sql<number>`coalesce(sum(events) FILTER (WHERE kind <> 'any' AND class <> 'human'), 0)::int`.as(
              'machine',
            ),
          ])
          .where('subscriber_id', '=', subscriberId)
          .groupBy('issue_id')
          .as('counts'),
      (join) => join.onRef('counts.issue_id', '=', 'deliveries.issue_id'),
    )
    .select([
      'issues.week',
      'deliveries.segment_key',
      'deliveries.status',
      'deliveries.tracked',
      'deliveries.sent_at',
      'deliveries.last_error',
      'counts.opens',
      'counts.clicks',
      'counts.machine',
    ])
    .where('deliveries.subscriber_id', '=', subscriberId)
    .orderBy('issues.week', 'desc')
    .limit(SHOWN)
    .execute();
  return rows.map((r) => ({
    week: r.week,
    segmentKey: r.segment_key,
    status: r.status,
    tracked: r.tracked,
    sentAt: r.sent_at,
    lastError: r.last_error,
    opens: r.opens ?? 0,
    clicks: r.clicks ?? 0,
    machineEvents: r.machine ?? 0,
  }));
}
