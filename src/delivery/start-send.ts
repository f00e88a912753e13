import { sql } from 'kysely';
import type { AudienceCounts, Db, Tx } from '../db/database.ts';
import { retryTransaction } from '../db/retry-transaction.ts';
import { UserError } from '../errors.ts';
import { markSending } from '../issues/issue-lifecycle.ts';
import type { IssueLink } from '../render/issue-links.ts';
import { segmentKeySql } from '../stories/segment-set.ts';
import { checkStoredAddresses } from '../subscribers/address-check.ts';
import { rolloutDay } from './local-time.ts';
import { decidePersonalOrders, orderGroupSql, type PersonalOrderPlan } from './personal-orders.ts';
import { type SubjectTestPlan, splitAudience } from './subject-test.repository.ts';

export interface StartSendOptions {
  /** Domain part of every Message-ID (the sender's domain). */
  messageIdDomain: string;
  /** The issue's link registry (issueLinks(content)), stored so click tokens resolve. */
  links?: readonly IssueLink[];
  /** Segments with content; default: the segments the issue has items for. */
  segmentIds?: readonly number[];
  /** Refuse an issue that is still a draft. */
  requireApproval?: boolean;
  /** TRACKING_ENABLED: when false no delivery is tracked; else each follows the reader's choice. Default true. */
  trackingEnabled?: boolean;
  /**
   * Local-time delivery: each delivery waits until `time` (HH:MM) on the rollout day (see local-time.ts) in
   * the subscriber's time zone, else `defaultTimeZone`. Without it every delivery is due at once.
   */
  localTime?: { time: string; defaultTimeZone: string };
  /**
   * A subject test: the frozen audience is split (see splitAudience) in the same transaction, a share of
   * the tracked readers gets the variants at once and the rest is held until the decision.
   */
  subjectTest?: SubjectTestPlan;
  /**
   * PERSONAL_ORDER: in the same transaction, tracked deliveries get an order group (a stable-hash holdout
   * share keeps the editorial order) and personal-group readers with a history their own story order
   * (see decidePersonalOrders). Absent: every delivery keeps the editorial order, order_group null.
   */
  personalOrder?: PersonalOrderPlan;
}

const AUDIENCE_BATCH = 50_000;

/**
 * Freezes the audience of an issue and marks it 'sending': one delivery per active, unpaused
 * subscriber with an address the strict parser accepts, following at least one segment that has content, keyed by their sorted segment slugs,
 * with a Message-ID derived from week and subscriber. Set-based INSERT … SELECT in batches of
 * subscriber ids, all in one transaction, so a crash leaves either no audience or all of it.
 * With `personalOrder`, each tracked reader's order group and own story order are decided in the same
 * transaction. Idempotent: once started (sending, paused, sent, cancelled) it adds nothing, changes no
 * order and returns the recorded counts. Throws UserError for a missing issue, a draft when approval is required, or an
 * issue without content.
 */
export async function startSend(db: Db, issueId: number, options: StartSendOptions): Promise<AudienceCounts> {
  // The first check after an upgrade may cover the whole list: done in its own batches, outside the
  // transaction that holds the issue; the one inside only sees addresses written meanwhile.
  await checkStoredAddresses(db);
  // A racing start (a second `recap send`) may deadlock with this one: run again, it then finds 'sending'.
  return retryTransaction(() => db.transaction().execute((trx) => freezeAudience(trx, issueId, options)));
}

// Long: one transaction under the issue's row lock; its steps (check, freeze the audience in batches, count, mark sending) must run in this order inside it.
async function freezeAudience(trx: Tx, issueId: number, options: StartSendOptions): Promise<AudienceCounts> {
  const issue = await trx
    .selectFrom('issues')
    .select(['id', 'week', 'status', 'status_reason', 'audience_counts'])
    .where('id', '=', issueId)
    .forUpdate()
    .executeTakeFirst();
  if (!issue) throw new UserError(`issue ${issueId} does not exist`);
  if (
    issue.status === 'sending' ||
    issue.status === 'paused' ||
    issue.status === 'sent' ||
    issue.status === 'cancelled'
  ) {
    return issue.audience_counts ?? { eligible: 0, suppressed: 0, unsubscribed: 0, pending: 0 };
  }
  if (options.requireApproval && issue.status === 'draft') {
    throw new UserError(`issue ${issue.week} is a draft: approve it before sending (REQUIRE_APPROVAL is on)`);
  }
  const segmentIds =
    options.segmentIds ??
    (
      await trx
        .selectFrom('issue_items')
        .select('segment_id')
        .distinct()
        .where('issue_id', '=', issueId)
        .execute()
    ).map((row) => row.segment_id);
  if (segmentIds.length === 0)
    throw new UserError(`issue ${issue.week} has no stories in any segment: nothing to send`);

  // Addresses stored before the strict parser (or written around it) are checked once; invalid ones
  // are left out of every audience and listed by `recap subscribers invalid`.
  await checkStoredAddresses(trx);
  const bounds = await trx
    .selectFrom('subscribers')
    .select((eb) => [eb.fn.min('id').as('low'), eb.fn.max('id').as('high')])
    .executeTakeFirstOrThrow();
  // A subscriber's zone when PostgreSQL knows it (a zone it does not know would fail the whole freeze).
  const local = options.localTime;
  const notBefore = local
    ? sql`(${rolloutDay(issue.week)}::date + ${local.time}::time) AT TIME ZONE
          CASE WHEN s.time_zone IS NOT NULL AND EXISTS (SELECT 1 FROM zones WHERE zones.name = s.time_zone)
            THEN s.time_zone ELSE ${local.defaultTimeZone}::text END`
    : sql`NULL::timestamptz`;
  if (local) {
    await sql`CREATE TEMP TABLE zones ON COMMIT DROP AS SELECT name FROM pg_timezone_names`.execute(trx);
    await sql`CREATE INDEX ON zones (name)`.execute(trx);
  }
  const tracked = sql`${options.trackingEnabled ?? true}::boolean AND s.tracking_enabled`;
  const orderGroup = options.personalOrder
    ? orderGroupSql(issueId, sql`s.id`, tracked, options.personalOrder.holdout)
    : sql`NULL::text`;
  let eligible = 0;
  if (bounds.low !== null && bounds.high !== null) {
    for (let low = BigInt(bounds.low); low <= BigInt(bounds.high); low += BigInt(AUDIENCE_BATCH)) {
      const high = low + BigInt(AUDIENCE_BATCH - 1);
      const result = await sql`
          INSERT INTO deliveries (issue_id, subscriber_id, segment_key, message_id, tracked, not_before, order_group)
          SELECT ${issueId}, s.id, ${segmentKeySql(sql`g.slug`)},
            '<recap.' || ${issue.week}::text || '.' || s.id || '@' || ${options.messageIdDomain}::text || '>',
            ${tracked},
            ${notBefore},
            ${orderGroup}
          FROM subscribers s
          JOIN subscriptions sub ON sub.subscriber_id = s.id
          JOIN segments g ON g.id = sub.segment_id
          WHERE s.id BETWEEN ${low.toString()} AND ${high.toString()}
            AND s.status = 'active' AND (s.paused_until IS NULL OR s.paused_until <= now())
            AND s.address_invalid IS NOT TRUE
            AND sub.segment_id = ANY (${[...segmentIds]}::int[])
          GROUP BY s.id, s.tracking_enabled
          ON CONFLICT (issue_id, subscriber_id) DO NOTHING
        `.execute(trx);
      eligible += Number(result.numAffectedRows ?? 0);
    }
  }
  const others = await sql<{ suppressed: string; unsubscribed: string; pending: string }>`
      SELECT count(*) FILTER (WHERE status IN ('bounced', 'complained')) AS suppressed,
        count(*) FILTER (WHERE status = 'unsubscribed') AS unsubscribed,
        count(*) FILTER (WHERE status = 'pending') AS pending
      FROM subscribers
    `.execute(trx);
  const row = others.rows[0];
  const counts: AudienceCounts = {
    eligible,
    suppressed: Number(row?.suppressed ?? 0),
    unsubscribed: Number(row?.unsubscribed ?? 0),
    pending: Number(row?.pending ?? 0),
  };
  const links = options.links ?? [];
  for (let i = 0; i < links.length; i += 500) {
    await trx
      .insertInto('issue_links')
      .values(
        links.slice(i, i + 500).map((link) => ({
          issue_id: issueId,
          position: link.position,
          url: link.url,
          story_id: link.storyId,
          kind: link.kind,
        })),
      )
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  if (options.personalOrder) await decidePersonalOrders(trx, issueId, options.personalOrder);
  if (options.subjectTest && options.subjectTest.variants.length > 1)
    await splitAudience(trx, issueId, options.subjectTest);
  await markSending(trx, issueId, counts);
  return counts;
}
