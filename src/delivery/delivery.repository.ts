import { sql } from 'kysely';
import type { Db, DeliveryStatus, IssueStatus, SendFailureKind, SubjectVariant } from '../db/database.ts';
import { retryTransaction } from '../db/retry-transaction.ts';
import { segmentSetFromKey } from '../stories/segment-set.ts';

/**
 * How long a claimed row stays reserved for a worker that stopped answering. Live workers renew their
 * leases every third of it, so a crashed worker's rows are free again within this many seconds.
 */
export const DEFAULT_LEASE_SECONDS = 20;

/** One delivery handed to a worker: the row plus what personalisation needs from the subscriber. */
export interface ClaimedDelivery {
  id: string;
  subscriberId: string;
  segmentKey: string;
  messageId: string;
  attempts: number;
  email: string;
  name: string | null;
  trackingEnabled: boolean;
  /** The subject variant of the message (null: no subject test, the issue's own subject). */
  subjectVariant?: SubjectVariant | null;
  /**
   * The reader's own order of the movable stories, decided when the audience was frozen and stored with
   * the delivery, so every attempt sends the same copy (null: the editorial order).
   */
  storyOrder?: string[] | null;
}

export interface ClaimResult {
  deliveries: ClaimedDelivery[];
  /** Claimed rows whose subscriber left (unsubscribed, bounced, paused, no segment of the edition). */
  skipped: number;
  /** Highest id claimed (deliveries and skipped): the next claim starts after it. Null when nothing was claimed. */
  lastId: string | null;
}

interface ClaimRow {
  id: string;
  subscriber_id: string;
  segment_key: string;
  message_id: string;
  attempts: number;
  tracked: boolean;
  subject_variant: SubjectVariant | null;
  story_order: string[] | null;
}

interface SubscriberRow {
  id: string;
  email: string;
  name: string | null;
  tracking_enabled: boolean;
  status: string;
  paused: boolean;
  slugs: string[];
}

/**
 * Leases up to `limit` queued deliveries of an issue with ids above `afterId` to `workerId`, skipping
 * rows other workers hold (FOR UPDATE SKIP LOCKED) or lease, and rows waiting for a retry. Walking
 * forward by id keeps a claim as fast at the millionth row as at the first: a plain SKIP LOCKED scan
 * re-reads every finished row still in the index. The claim is one statement, so its row locks last
 * microseconds. Suppression is re-checked here: a subscriber who left since the audience was frozen
 * (unsubscribed, bounced, paused, no longer following any segment of the edition) is marked skipped.
 */
export async function claimDeliveries(
  db: Db,
  params: { issueId: number; workerId: string; afterId: string; limit: number; leaseSeconds: number },
): Promise<ClaimResult> {
  // ARRAY(subquery) makes the planner look the rows up by primary key instead of hashing the table.
  const { rows } = await retryTransaction(() =>
    sql<ClaimRow>`
    UPDATE deliveries
    SET lease_owner = ${params.workerId},
        lease_expires_at = now() + make_interval(secs => ${params.leaseSeconds}),
        attempts = attempts + 1
    WHERE id = ANY (ARRAY(
      SELECT id FROM deliveries
      WHERE issue_id = ${params.issueId} AND status = 'queued' AND id > ${params.afterId}
        AND (lease_expires_at IS NULL OR lease_expires_at < now())
        AND (next_attempt_at IS NULL OR next_attempt_at <= now())
        AND (not_before IS NULL OR not_before <= now())
        -- Held for a subject test's winner: not claimed until the decision gives it a variant.
        AND (subject_group IS NULL OR subject_variant IS NOT NULL)
      ORDER BY id
      LIMIT ${params.limit}
      FOR UPDATE SKIP LOCKED
    ))
    RETURNING id, subscriber_id, segment_key, message_id, attempts, tracked, subject_variant, story_order
  `.execute(db),
  );
  if (rows.length === 0) return { deliveries: [], skipped: 0, lastId: null };
  const subscribers = await sql<SubscriberRow>`
    SELECT s.id, s.email, s.name, s.tracking_enabled, s.status, coalesce(s.paused_until > now(), false) AS paused,
      ARRAY(SELECT g.slug FROM subscriptions sub JOIN segments g ON g.id = sub.segment_id WHERE sub.subscriber_id = s.id) AS slugs
    FROM subscribers s
    WHERE s.id = ANY (${rows.map((r) => r.subscriber_id)}::bigint[])
  `.execute(db);
  const byId = new Map(subscribers.rows.map((row) => [row.id, row]));
  let lastId = rows[0]?.id as string;
  const deliveries: ClaimedDelivery[] = [];
  const skipped: Outcome[] = [];
  for (const row of rows) {
    if (BigInt(row.id) > BigInt(lastId)) lastId = row.id;
    const subscriber = byId.get(row.subscriber_id);
    const reason = !subscriber
      ? 'subscriber deleted'
      : subscriber.status !== 'active'
        ? `subscriber is ${subscriber.status}`
        : subscriber.paused
          ? 'subscriber paused'
          : segmentSetFromKey(row.segment_key).slugs.some((slug) => subscriber.slugs.includes(slug))
            ? null
            : `no longer follows ${row.segment_key}`;
    if (reason !== null || !subscriber) {
      skipped.push({
        id: row.id,
        subscriberId: row.subscriber_id,
        status: 'skipped',
        error: reason ?? 'subscriber deleted',
      });
      continue;
    }
    deliveries.push({
      id: row.id,
      subscriberId: row.subscriber_id,
      segmentKey: row.segment_key,
      messageId: row.message_id,
      attempts: row.attempts,
      email: subscriber.email,
      name: subscriber.name,
      // The choice frozen with the audience; a reader turning tracking off meanwhile is respected too.
      trackingEnabled: row.tracked && subscriber.tracking_enabled,
      subjectVariant: row.subject_variant,
      storyOrder: row.story_order,
    });
  }
  deliveries.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  if (skipped.length > 0) await recordOutcomes(db, params.workerId, skipped);
  return { deliveries, skipped: skipped.length, lastId };
}

/** What happened to one claimed delivery. 'queued' means: try again at `nextAttemptAt`. */
export interface Outcome {
  id: string;
  subscriberId: string;
  status: Exclude<DeliveryStatus, 'cancelled'>;
  error?: string;
  kind?: SendFailureKind;
  smtpCode?: string;
  nextAttemptAt?: Date;
  /** Sent: the relay's own id of the message, which its webhook events name. */
  relayMessageId?: string;
  /** Sent through one of several relays (SMTP_URLS): its name, counted in issue_relay_counts. */
  relay?: string;
}

/**
 * Writes a batch of outcomes in one statement (plus one for suppressions), only for rows still leased
 * to `workerId`: a worker whose lease expired and was taken over writes nothing. A delivery cancelled
 * while in flight keeps 'cancelled' unless it was in fact sent. Bounced subscribers are suppressed and
 * the suppression recorded in the consent log, in the same transaction. Returns the rows written.
 */
export async function recordOutcomes(
  db: Db,
  workerId: string,
  outcomes: readonly Outcome[],
): Promise<number> {
  if (outcomes.length === 0) return 0;
  const sent = outcomes.filter((o) => o.status === 'sent');
  const others = outcomes.filter((o) => o.status !== 'sent');
  const write = async (executor: Db) => {
    const rows: Array<{ id: string; subscriber_id: string; status: string }> = [];
    if (sent.length > 0) {
      rows.push(...(await markSent(executor, workerId, sent)));
      await recordRelayMessageIds(executor, sent);
    }
    if (others.length > 0) {
      const column = <T>(pick: (o: Outcome) => T) => others.map(pick);
      const result = await sql<{ id: string; subscriber_id: string; status: string }>`
        UPDATE deliveries d
        SET status = CASE WHEN d.status = 'cancelled' THEN 'cancelled' ELSE v.status END,
            last_error = v.error,
            failure_kind = v.kind,
            smtp_code = v.code,
            next_attempt_at = v.next_at,
            last_attempt_at = now(),
            lease_owner = NULL,
            lease_expires_at = NULL
        FROM unnest(
          ${column((o) => o.id)}::bigint[], ${column((o) => o.status)}::text[], ${column((o) => o.error ?? null)}::text[],
          ${column((o) => o.kind ?? null)}::text[], ${column((o) => o.smtpCode ?? null)}::text[],
          ${column((o) => o.nextAttemptAt?.toISOString() ?? null)}::timestamptz[]
        ) AS v(id, status, error, kind, code, next_at)
        WHERE d.id = v.id AND d.id = ANY (${column((o) => o.id)}::bigint[]) AND d.lease_owner = ${workerId}
        RETURNING d.id, d.subscriber_id, d.status
      `.execute(executor);
      rows.push(...result.rows);
    }
    return rows;
  };
  const bounced = outcomes.filter((o) => o.status === 'bounced');
  // Writing the same outcomes again is harmless, so a deadlock with another worker's write just runs again.
  if (bounced.length === 0) return retryTransaction(async () => (await write(db)).length);
  return retryTransaction(() =>
    db.transaction().execute(async (trx) => {
      const rows = await write(trx as unknown as Db);
      const written = new Set(rows.filter((r) => r.status === 'bounced').map((r) => r.subscriber_id));
      const suppress = bounced.filter((o) => written.has(o.subscriberId));
      if (suppress.length > 0) {
        await sql`
        WITH changed AS (
          UPDATE subscribers s SET status = 'bounced'
          FROM unnest(${suppress.map((o) => o.subscriberId)}::bigint[], ${suppress.map((o) => o.error ?? null)}::text[],
                      ${suppress.map((o) => o.smtpCode ?? null)}::text[]) AS v(id, error, code)
          WHERE s.id = v.id AND s.id = ANY (${suppress.map((o) => o.subscriberId)}::bigint[]) AND s.status IN ('active', 'pending')
          RETURNING s.id, v.error, v.code
        )
        INSERT INTO consent_log (subscriber_id, action, detail)
        SELECT id, 'suppressed-hard-bounce', jsonb_build_object('source', 'smtp', 'status', code, 'message', error)
        FROM changed
      `.execute(trx);
      }
      return rows.length;
    }),
  );
}

/**
 * Marks sent rows still leased to `workerId`; with several relays, counts them per relay in the same
 * statement (one counter row per issue, relay and worker), so the counts match the deliveries without
 * ever scanning them. Returns the rows written.
 */
async function markSent(
  executor: Db,
  workerId: string,
  sent: readonly Outcome[],
): Promise<Array<{ id: string; subscriber_id: string; status: string }>> {
  // The common case, one statement without a join: the planner looks the rows up by primary key.
  const update = sql`
    UPDATE deliveries
    SET status = 'sent', sent_at = now(), last_error = NULL, failure_kind = NULL, smtp_code = NULL,
        next_attempt_at = NULL, last_attempt_at = now(), lease_owner = NULL, lease_expires_at = NULL
    WHERE id = ANY (${sent.map((o) => o.id)}::bigint[]) AND lease_owner = ${workerId}
  `;
  const viaRelays = sent.filter((o) => o.relay !== undefined);
  // Several relays: the rows written are counted per relay in the same statement (one counter row
  // per issue, relay and worker), so the counts match the deliveries without ever scanning them.
  return (
    viaRelays.length === 0
      ? await sql<{ id: string; subscriber_id: string; status: string }>`
          ${update} RETURNING id, subscriber_id, status
        `.execute(executor)
      : await sql<{ id: string; subscriber_id: string; status: string }>`
          WITH done AS (${update} RETURNING id, subscriber_id, status, issue_id),
          counted AS (
            INSERT INTO issue_relay_counts AS c (issue_id, relay, worker_id, sent)
            SELECT done.issue_id, v.relay, ${workerId}, count(*)
            FROM done JOIN unnest(${viaRelays.map((o) => o.id)}::bigint[], ${viaRelays.map((o) => o.relay ?? null)}::text[]) AS v(id, relay)
              ON v.id = done.id
            GROUP BY 1, 2
            ON CONFLICT (issue_id, relay, worker_id) DO UPDATE SET sent = c.sent + excluded.sent
          )
          SELECT id, subscriber_id, status FROM done
        `.execute(executor)
  ).rows;
}

/** The relay ids of sent messages (those whose relay named one), for webhook events to find them by. */
async function recordRelayMessageIds(db: Db, sent: readonly Outcome[]): Promise<void> {
  const named = sent.filter((o) => o.relayMessageId !== undefined);
  if (named.length === 0) return;
  await sql`
    UPDATE deliveries d SET relay_message_id = v.relay_id
    FROM unnest(${named.map((o) => o.id)}::bigint[], ${named.map((o) => o.relayMessageId ?? null)}::text[]) AS v(id, relay_id)
    WHERE d.id = v.id AND d.id = ANY (${named.map((o) => o.id)}::bigint[]) AND d.status = 'sent'
  `.execute(db);
}

/** Messages of an issue sent through each relay of SMTP_URLS, busiest first; empty with one relay. */
export async function relaySentCounts(
  db: Db,
  issueId: number,
): Promise<Array<{ relay: string; sent: number }>> {
  const rows = await db
    .selectFrom('issue_relay_counts')
    .select(['relay', (eb) => eb.fn.sum<string>('sent').as('sent')])
    .where('issue_id', '=', issueId)
    .groupBy('relay')
    .orderBy('relay')
    .execute();
  return rows
    .map((row) => ({ relay: row.relay, sent: Number(row.sent) }))
    .sort((a, b) => b.sent - a.sent || a.relay.localeCompare(b.relay));
}

/** Who a relay's message id was sent to, and in which issue; null when no delivery carries it. */
export async function findDeliveryByRelayMessageId(
  db: Db,
  relayMessageId: string,
): Promise<{ subscriberId: string; issueId: number } | null> {
  const row = await db
    .selectFrom('deliveries')
    .select(['subscriber_id', 'issue_id'])
    .where('relay_message_id', '=', relayMessageId)
    .limit(1)
    .executeTakeFirst();
  return row ? { subscriberId: row.subscriber_id, issueId: row.issue_id } : null;
}

/** Extends the leases a worker still holds; returns how many it still holds. */
export async function extendLeases(
  db: Db,
  workerId: string,
  ids: readonly string[],
  leaseSeconds: number,
): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await sql`
    UPDATE deliveries SET lease_expires_at = now() + make_interval(secs => ${leaseSeconds})
    WHERE id = ANY (${ids}::bigint[]) AND lease_owner = ${workerId} AND status = 'queued'
  `.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** Hands back claimed deliveries that were never attempted (a stop or a fatal error), as if never claimed. */
export async function releaseDeliveries(db: Db, workerId: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`
    UPDATE deliveries SET lease_owner = NULL, lease_expires_at = NULL, attempts = greatest(attempts - 1, 0)
    WHERE id = ANY (${ids}::bigint[]) AND lease_owner = ${workerId}
  `.execute(db);
}

export interface QueueState {
  /** Queued rows, including ones leased or waiting for a retry. */
  queued: number;
  /** Queued rows leased to others with a live lease, or waiting for their retry time. */
  waiting: number;
  /** Milliseconds until the earliest waiting row becomes claimable (0 when one already is). */
  msUntilNext: number | null;
  /** Queued rows waiting for their local delivery time (RECAP_DELIVERY=local). */
  notYetDue: number;
  /** When the next of those comes due. */
  nextDueAt: Date | null;
}

export async function queueState(db: Db, issueId: number): Promise<QueueState> {
  const { rows } = await sql<{
    queued: string;
    waiting: string;
    ms: number | null;
    not_yet_due: string;
    next_due_at: Date | null;
  }>`
    SELECT count(*) AS queued,
      count(*) FILTER (WHERE lease_expires_at > now() OR next_attempt_at > now() OR not_before > now()) AS waiting,
      -- greatest() skips NULLs; a row with neither a lease, a retry time nor a local time is claimable now.
      extract(epoch FROM min(coalesce(greatest(lease_expires_at, next_attempt_at, not_before), now())) - now()) * 1000 AS ms,
      count(*) FILTER (WHERE not_before > now()) AS not_yet_due,
      min(not_before) FILTER (WHERE not_before > now()) AS next_due_at
    FROM deliveries WHERE issue_id = ${issueId} AND status = 'queued'
  `.execute(db);
  const row = rows[0];
  const ms = row?.ms === null || row?.ms === undefined ? null : Math.max(0, Number(row.ms));
  return {
    queued: Number(row?.queued ?? 0),
    waiting: Number(row?.waiting ?? 0),
    msUntilNext: ms,
    notYetDue: Number(row?.not_yet_due ?? 0),
    nextDueAt: row?.next_due_at ? new Date(row.next_due_at) : null,
  };
}

export type DeliveryCounts = Record<DeliveryStatus, number> & {
  /** Queued rows that already failed at least once and wait for a retry. */
  retrying: number;
  /** Queued rows waiting for their local delivery time. */
  waiting: number;
  /** Queued rows whose time has come (all queued rows when the send is not local-time). */
  due: number;
  /** Failures by class: transient (gave up), permanent, policy. */
  failedBy: Partial<Record<SendFailureKind, number>>;
};

/** Counts of an issue's deliveries per state, for `recap send status` and the dashboard. */
export async function deliveryCounts(db: Db, issueId: number): Promise<DeliveryCounts> {
  const { rows } = await sql<{
    status: DeliveryStatus;
    failure_kind: SendFailureKind | null;
    retrying: boolean;
    waiting: boolean;
    n: string;
  }>`
    SELECT status, CASE WHEN status = 'failed' THEN failure_kind END AS failure_kind,
      (status = 'queued' AND next_attempt_at IS NOT NULL) AS retrying,
      (status = 'queued' AND coalesce(not_before > now(), false)) AS waiting, count(*) AS n
    FROM deliveries WHERE issue_id = ${issueId}
    GROUP BY 1, 2, 3, 4
  `.execute(db);
  const counts: DeliveryCounts = {
    queued: 0,
    sent: 0,
    failed: 0,
    bounced: 0,
    skipped: 0,
    cancelled: 0,
    retrying: 0,
    waiting: 0,
    due: 0,
    failedBy: {},
  };
  for (const row of rows) {
    const n = Number(row.n);
    counts[row.status] += n;
    if (row.retrying) counts.retrying += n;
    if (row.status === 'queued') counts[row.waiting ? 'waiting' : 'due'] += n;
    if (row.status === 'failed' && row.failure_kind)
      counts.failedBy[row.failure_kind] = (counts.failedBy[row.failure_kind] ?? 0) + n;
  }
  return counts;
}

export interface RolloutHour {
  /** The hour (UTC) deliveries become due; null for deliveries due at once. */
  hour: Date | null;
  queued: number;
  sent: number;
  other: number;
}

/** A local-time rollout by hour: how many deliveries come due in each hour and how many of them went out. */
export async function rolloutByHour(db: Db, issueId: number): Promise<RolloutHour[]> {
  const { rows } = await sql<{ hour: Date | null; queued: string; sent: string; other: string }>`
    SELECT date_trunc('hour', not_before) AS hour,
      count(*) FILTER (WHERE status = 'queued') AS queued,
      count(*) FILTER (WHERE status = 'sent') AS sent,
      count(*) FILTER (WHERE status NOT IN ('queued', 'sent')) AS other
    FROM deliveries WHERE issue_id = ${issueId}
    GROUP BY 1 ORDER BY 1 NULLS FIRST
  `.execute(db);
  return rows.map((row) => ({
    hour: row.hour ? new Date(row.hour) : null,
    queued: Number(row.queued),
    sent: Number(row.sent),
    other: Number(row.other),
  }));
}

/** A published issue of the archive: its week and when its send started (the date the feed gives). */
export interface ArchivedIssueRow {
  id: number;
  week: string;
  publishedAt: Date;
}

/**
 * Published issues (`statuses`) with at least one message sent, newest week first: one page of them
 * and how many there are in all. Each issue costs one index probe of its deliveries.
 */
export async function listArchivedIssues(
  db: Db,
  statuses: readonly IssueStatus[],
  page: { limit: number; offset: number },
): Promise<{ total: number; issues: ArchivedIssueRow[] }> {
  const archived = db
    .selectFrom('issues')
    .where('issues.status', 'in', [...statuses])
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom('deliveries')
          .select(sql`1`.as('one'))
          .whereRef('deliveries.issue_id', '=', 'issues.id')
          .where('deliveries.status', '=', 'sent'),
      ),
    );
  const [rows, count] = await Promise.all([
    archived
      .select(['issues.id', 'issues.week', 'issues.send_started_at', 'issues.created_at'])
      .orderBy('issues.week', 'desc')
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
    archived.select(sql<number>`count(*)::int`.as('n')).executeTakeFirst(),
  ]);
  return {
    total: Number(count?.n ?? 0),
    issues: rows.map((row) => ({
      id: row.id,
      week: row.week,
      publishedAt: row.send_started_at ?? row.created_at,
    })),
  };
}

/** The segment keys of an issue with at least one message sent. */
export async function sentSegmentKeys(db: Db, issueId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('deliveries')
    .select('segment_key')
    .distinct()
    .where('issue_id', '=', issueId)
    .where('status', '=', 'sent')
    .execute();
  return rows.map((row) => row.segment_key);
}

/** Messages of an issue sent within the last `windowSeconds`: the rate the editor's progress shows. */
export async function sentWithin(db: Db, issueId: number, windowSeconds: number): Promise<number> {
  const row = await db
    .selectFrom('deliveries')
    .select(sql<string>`count(*)`.as('n'))
    .where('issue_id', '=', issueId)
    .where('status', '=', 'sent')
    .where('sent_at', '>', sql<Date>`now() - make_interval(secs => ${windowSeconds})`)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
