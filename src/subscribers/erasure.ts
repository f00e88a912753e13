import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Db, Tx } from '../db/database.ts';
import { exportReaderFeedback } from '../feedback/feedback.repository.ts';
import type { ConsentContext } from './consent-log.ts';

/**
 * The one form an address is hashed in: NFC, trimmed, lower-case (the form the database stores).
 * The hash is a plain SHA-256, not an HMAC keyed with RECAP_SECRET, on purpose: the suppression must
 * outlive secret rotation and a restore under another configuration, and a keyed list that silently
 * stops matching would mail someone who asked to be forgotten. It cannot be turned back into an address;
 * it only answers "was this address erased?" for an address one already has.
 */
export function erasedAddressHash(email: string): string {
  return createHash('sha256').update(email.normalize('NFC').trim().toLowerCase(), 'utf8').digest('hex');
}

/** Whether this address was erased on request (and may not be added again). */
export async function isErased(db: Db | Tx, email: string): Promise<boolean> {
  const row = await db
    .selectFrom('erased_addresses')
    .select('hash')
    .where('hash', '=', erasedAddressHash(email))
    .executeTakeFirst();
  return row !== undefined;
}

/** The addresses of `emails` that were erased on request. One query. */
export async function erasedAmong(db: Db | Tx, emails: readonly string[]): Promise<Set<string>> {
  if (emails.length === 0) return new Set();
  const byHash = new Map(emails.map((email) => [erasedAddressHash(email), email]));
  const rows = await db
    .selectFrom('erased_addresses')
    .select('hash')
    .where('hash', 'in', [...byHash.keys()])
    .execute();
  return new Set(rows.map((row) => byHash.get(row.hash) as string));
}

/** Everything stored about one person, one key per table that mentions them. */
export interface SubscriberExport {
  exportedAt: string;
  subscriber: Record<string, unknown>;
  subscriptions: Array<{ segmentId: number; segment: string; since: Date }>;
  consent_log: Array<Record<string, unknown>>;
  deliveries: Array<Record<string, unknown>>;
  tracking_events: Array<Record<string, unknown>>;
  /** The analytics rollups' per-person counts (events per issue, kind and class; clicks per link). */
  event_reader_counts: Array<Record<string, unknown>>;
  event_link_readers: Array<Record<string, unknown>>;
  /** The issues whose unsubscribes or complaints count this person (per issue: which of the two). */
  issue_opt_outs: Array<Record<string, unknown>>;
  /** "More / Less like this" answers (vote +1 / -1) and issue ratings (1–3): deleted on erasure. */
  story_votes: Array<Record<string, unknown>>;
  issue_ratings: Array<Record<string, unknown>>;
}

/**
 * Everything stored about the subscriber with this id: profile, followed segments, consent log (with
 * what they were shown), deliveries and tracking events. Null when the id is unknown or erased.
 */
// Long: the person's data gathered table by table into one export document.
export async function exportSubscriberById(
  db: Db,
  subscriberId: string,
  now: Date = new Date(),
): Promise<SubscriberExport | null> {
  const subscriber = await db
    .selectFrom('subscribers')
    .selectAll()
    .where('id', '=', subscriberId)
    .where('status', '<>', 'erased')
    .executeTakeFirst();
  if (!subscriber) return null;
  const [subscriptions, consent, deliveries, events, readerCounts, linkReaders, optOuts] = await Promise.all([
    db
      .selectFrom('subscriptions')
      .innerJoin('segments', 'segments.id', 'subscriptions.segment_id')
      .select(['segments.id', 'segments.name', 'subscriptions.created_at'])
      .where('subscriptions.subscriber_id', '=', subscriberId)
      .orderBy('segments.id')
      .execute(),
    db
      .selectFrom('consent_log')
      .select(['action', 'occurred_at', 'ip', 'user_agent', 'detail'])
      .where('subscriber_id', '=', subscriberId)
      .orderBy('occurred_at')
      .orderBy('id')
      .execute(),
    db
      .selectFrom('deliveries')
      .innerJoin('issues', 'issues.id', 'deliveries.issue_id')
      .select([
        'issues.week',
        'deliveries.segment_key',
        'deliveries.status',
        'deliveries.tracked',
        'deliveries.message_id',
        'deliveries.attempts',
        'deliveries.sent_at',
        'deliveries.last_error',
        'deliveries.smtp_code',
        'deliveries.created_at',
      ])
      .where('deliveries.subscriber_id', '=', subscriberId)
      .orderBy('issues.week')
      .execute(),
    db
      .selectFrom('tracking_events')
      .innerJoin('issues', 'issues.id', 'tracking_events.issue_id')
      .select([
        'issues.week',
        'tracking_events.kind',
        'tracking_events.link_position',
        'tracking_events.class',
        'tracking_events.reason',
        'tracking_events.method',
        'tracking_events.ip',
        'tracking_events.user_agent',
        'tracking_events.occurred_at',
      ])
      .where('tracking_events.subscriber_id', '=', subscriberId)
      .orderBy('tracking_events.occurred_at')
      .orderBy('tracking_events.id')
      .execute(),
    db
      .selectFrom('event_reader_counts')
      .innerJoin('issues', 'issues.id', 'event_reader_counts.issue_id')
      .select([
        'issues.week',
        'event_reader_counts.kind',
        'event_reader_counts.class',
        'event_reader_counts.events',
      ])
      .where('event_reader_counts.subscriber_id', '=', subscriberId)
      .orderBy('issues.week')
      .execute(),
    db
      .selectFrom('event_link_readers')
      .innerJoin('issues', 'issues.id', 'event_link_readers.issue_id')
      .select(['issues.week', 'event_link_readers.link_position', 'event_link_readers.clicks'])
      .where('event_link_readers.subscriber_id', '=', subscriberId)
      .orderBy('issues.week')
      .execute(),
    db
      .selectFrom('issue_opt_outs')
      .innerJoin('issues', 'issues.id', 'issue_opt_outs.issue_id')
      .select(['issues.week', 'issue_opt_outs.unsubscribed', 'issue_opt_outs.complained'])
      .where('issue_opt_outs.subscriber_id', '=', subscriberId)
      .orderBy('issues.week')
      .execute(),
  ]);
  return {
    exportedAt: now.toISOString(),
    subscriber: { ...subscriber },
    subscriptions: subscriptions.map((row) => ({
      segmentId: row.id,
      segment: row.name,
      since: row.created_at,
    })),
    consent_log: consent.map((row) => ({ ...row })),
    deliveries: deliveries.map((row) => ({ ...row })),
    tracking_events: events.map((row) => ({ ...row })),
    event_reader_counts: readerCounts.map((row) => ({ ...row })),
    event_link_readers: linkReaders.map((row) => ({ ...row })),
    issue_opt_outs: optOuts.map((row) => ({ ...row })),
    ...(await exportReaderFeedback(db, subscriberId)),
  };
}

/** Looks the address up (normalised) and exports it; null when no such subscriber. */
export async function exportSubscriberByEmail(db: Db, email: string): Promise<SubscriberExport | null> {
  const row = await db
    .selectFrom('subscribers')
    .select('id')
    .where('email', '=', email.normalize('NFC').trim().toLowerCase())
    .executeTakeFirst();
  return row ? exportSubscriberById(db, row.id) : null;
}

export interface ErasureResult {
  /** 'erased' now, 'already-erased' (nothing left, hash already listed), 'unknown' (no such subscriber; hash listed now). */
  outcome: 'erased' | 'already-erased' | 'unknown';
  /** Delivery rows and events kept, anonymised, so past issue numbers do not change. */
  keptDeliveries: number;
  keptEvents: number;
}

/** Consent records the reports count (unsubscribes and complaints per issue, sunsetting per week). */
const COUNTED_ACTIONS = ['unsubscribe', 'complaint', 'reengagement-sent', 'sunset-paused'];

/**
 * Erases a person: their subscriber row, subscriptions and consent history go; the SHA-256 of the
 * normalised address goes on the erased list so no import or sign-up adds it again. Past numbers stay
 * as they were: their delivery rows, tracking events and the consent records the reports count move to
 * a fresh anonymous placeholder (status 'erased', a random address under .invalid), stripped of IP
 * address, user agent, Message-ID, error text and any other detail. One transaction; idempotent. The
 * erasure itself is logged on the placeholder, without the address.
 */
export async function eraseSubscriber(
  db: Db,
  email: string,
  context: ConsentContext,
): Promise<ErasureResult> {
  const normalised = email.normalize('NFC').trim().toLowerCase();
  const hash = erasedAddressHash(normalised);
  return db.transaction().execute(async (trx) => {
    const listed = await trx
      .insertInto('erased_addresses')
      .values({ hash })
      .onConflict((oc) => oc.column('hash').doNothing())
      .returning('hash')
      .executeTakeFirst();
    const subscriber = await trx
      .selectFrom('subscribers')
      .select('id')
      .where('email', '=', normalised)
      .where('status', '<>', 'erased')
      .forUpdate()
      .executeTakeFirst();
    if (!subscriber) {
      return { outcome: listed ? 'unknown' : 'already-erased', keptDeliveries: 0, keptEvents: 0 };
    }
    const placeholder = await trx
      .insertInto('subscribers')
      .values({
        email: `erased-${randomBytes(12).toString('hex')}@erased.invalid`,
        status: 'erased',
        tracking_enabled: false,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const deliveries = await sql`
      UPDATE deliveries SET subscriber_id = ${placeholder.id},
        message_id = '<erased.d' || id || '@erased.invalid>',
        last_error = NULL, lease_owner = NULL,
        status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END
      WHERE subscriber_id = ${subscriber.id}`.execute(trx);
    const events = await trx
      .updateTable('tracking_events')
      .set({ subscriber_id: placeholder.id, ip: null, user_agent: null })
      .where('subscriber_id', '=', subscriber.id)
      .executeTakeFirst();
    // The rollups' per-person rows follow the events and deliveries, so distinct-reader and opt-out
    // numbers stay exact.
    for (const table of ['event_reader_counts', 'event_link_readers', 'issue_opt_outs'] as const) {
      await trx
        .updateTable(table)
        .set({ subscriber_id: placeholder.id })
        .where('subscriber_id', '=', subscriber.id)
        .execute();
    }
    await sql`
      UPDATE consent_log SET subscriber_id = ${placeholder.id}, ip = NULL, user_agent = NULL,
        detail = CASE WHEN detail ? 'issueId' THEN jsonb_build_object('issueId', detail->'issueId') ELSE '{}'::jsonb END
      WHERE subscriber_id = ${subscriber.id} AND action = ANY (${COUNTED_ACTIONS}::text[])`.execute(trx);
    // Subscriptions, story votes, issue ratings and the rest of the consent log go with the row (ON
    // DELETE CASCADE): an answer is an opinion of the person, not a count past reports must keep.
    await trx.deleteFrom('subscribers').where('id', '=', subscriber.id).execute();
    await trx
      .insertInto('consent_log')
      .values({
        subscriber_id: placeholder.id,
        action: 'erased',
        detail: JSON.stringify({ source: context.source }),
      })
      .execute();
    return {
      outcome: 'erased',
      keptDeliveries: Number(deliveries.numAffectedRows ?? 0),
      keptEvents: Number(events.numUpdatedRows ?? 0),
    };
  });
}
