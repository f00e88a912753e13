import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import {
  classifyEvent,
  MACHINE_OPEN_WINDOW_MS,
  type RawTrackingEvent,
  SCANNER_CLICK_WINDOW_MS,
} from './classify-event.ts';
import { reclassifyEvents, withRollups } from './event-rollups.ts';
import type { EventSpool, IdentifiedEvent, ReplayResult } from './event-spool.ts';

export type IncomingEvent = Omit<RawTrackingEvent, 'linksClickedWithinSecond'>;

export interface EventWriterOptions {
  /** Write as soon as this many events wait. */
  maxBatch?: number;
  /** Write at the latest this long after the first event of a batch arrived. */
  maxDelayMs?: number;
  /** Batches written at the same time (each an INSERT of many rows). */
  maxConcurrent?: number;
  /**
   * Where a batch the database cannot take goes (appended and fsynced), to be written when it returns.
   * Without one such a batch is rejected.
   */
  spool?: EventSpool;
  /** How often spooled events are offered to the database again; default 1 s. */
  replayEveryMs?: number;
  /**
   * Called when events were not kept: the database refused them for good (their issue or subscriber is
   * gone) or could not be reached while the spool was full or failing. The events' promises reject too.
   */
  onError?: (error: unknown, lost: number) => void;
  /** Called after each replay round that wrote, claimed or failed something. */
  onReplay?: (result: ReplayResult) => void;
}

export interface EventWriterStats {
  /** Bytes of events waiting in this process's spool for the database. */
  spoolBytes: number;
  /** Events put in the spool since start. */
  spooled: number;
  /** Events written from the spool since start (some may have been stored already). */
  replayed: number;
  /** Events neither stored nor spooled since start (spool full or failing). */
  notKept: number;
  /** Events handed to the writer since start. */
  accepted: number;
  /** Events waiting in memory for their batch. */
  queued: number;
}

export interface EventWriter {
  /**
   * Queues an event; resolves once it is stored in PostgreSQL or fsynced to the spool (then written
   * once the database is back), rejects if neither could be done.
   */
  record(event: IncomingEvent): Promise<void>;
  /** Writes everything queued so far and waits for batches in flight. */
  flush(): Promise<void>;
  /**
   * Graceful shutdown: flushes what is queued and from then on writes each event at once (no waiting
   * for a batch), so requests still in flight while the server closes are stored too. Leaves the spool
   * on disk: the next start writes it.
   */
  close(): Promise<void>;
  readonly pending: number;
  stats(): EventWriterStats;
}

/** The spool is full: the event was answered but is neither in the database nor on disk. */
export class TrackingSpoolFullError extends Error {
  override name = 'TrackingSpoolFullError';
}

interface Waiting {
  event: IdentifiedEvent;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const BURST_WINDOW_MS = 1_000;
// Short: a batch the database cannot take goes to the spool, where it waits without holding an answer.
const RETRY_DELAYS_MS = [50, 250];

/**
 * Group commit for opens and clicks: events wait at most `maxDelayMs` (or until `maxBatch` are queued),
 * then one batch is classified against its deliveries' send times (one query) and stored with one
 * multi-row INSERT. A batch the database cannot take (after two quick retries, or at once while the
 * spool already holds events) is appended to the spool and fsynced; a replay every second writes the
 * spool back once the database answers. Every event carries an id and the INSERT skips ids already
 * stored, so a batch written twice (its commit's answer lost with the connection) is stored once.
 */
// Long: a batching writer whose closures share its queue, timer and flush state.
export function createEventWriter(db: Db, options: EventWriterOptions = {}): EventWriter {
  const maxBatch = options.maxBatch ?? 1_000;
  const maxDelayMs = options.maxDelayMs ?? 5;
  const maxConcurrent = options.maxConcurrent ?? 2;
  let queue: Waiting[] = [];
  let timer: NodeJS.Timeout | undefined;
  let inFlight = 0;
  let draining = false;
  const idleWaiters: Array<() => void> = [];
  const recentClicks = new Map<string, Array<{ position: number; at: number }>>();
  const spool = options.spool;
  const counts = { spooled: 0, replayed: 0, notKept: 0, accepted: 0 };
  let replaying: Promise<void> | undefined;
  const replayTimer = spool ? setInterval(startReplay, options.replayEveryMs ?? 1_000) : undefined;
  replayTimer?.unref();
  if (spool) startReplay();

  function clicksWithinSecond(event: IncomingEvent): number {
    if (event.kind !== 'click' || event.linkPosition === null) return 0;
    const key = `${event.issueId}:${event.subscriberId}`;
    const now = event.occurredAt.getTime();
    const recent = (recentClicks.get(key) ?? []).filter((click) => now - click.at < BURST_WINDOW_MS);
    recent.push({ position: event.linkPosition, at: now });
    recentClicks.set(key, recent);
    if (recentClicks.size > 50_000) {
      for (const [k, clicks] of recentClicks)
        if (clicks.every((c) => now - c.at >= BURST_WINDOW_MS)) recentClicks.delete(k);
    }
    return new Set(recent.map((click) => click.position)).size;
  }

  function schedule(): void {
    if (queue.length === 0 || inFlight >= maxConcurrent) return;
    if (queue.length >= maxBatch || draining) {
      startBatch();
      return;
    }
    timer ??= setTimeout(() => {
      timer = undefined;
      if (inFlight < maxConcurrent) startBatch();
    }, maxDelayMs);
  }

  function startBatch(): void {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    const batch = queue.slice(0, maxBatch);
    queue = queue.slice(batch.length);
    if (batch.length === 0) return;
    inFlight += 1;
    writeWithRetry(batch).finally(() => {
      inFlight -= 1;
      schedule();
      if (inFlight === 0 && queue.length === 0) for (const wake of idleWaiters.splice(0)) wake();
    });
    schedule();
  }

  async function writeWithRetry(batch: Waiting[]): Promise<void> {
    const events = batch.map((item) => item.event);
    for (let attempt = 0; ; attempt += 1) {
      try {
        await writeEvents(db, events);
        for (const item of batch) item.resolve();
        return;
      } catch (error) {
        if (isConstraintViolation(error) && batch.length > 1) {
          // One bad event (its issue or subscriber deleted meanwhile) must not take the others down.
          const half = Math.ceil(batch.length / 2);
          await writeWithRetry(batch.slice(0, half));
          await writeWithRetry(batch.slice(half));
          return;
        }
        if (isConstraintViolation(error)) {
          options.onError?.(error, batch.length);
          for (const item of batch) item.reject(error);
          return;
        }
        // While the spool holds events the database is known to be away: no point waiting for it.
        const delay = spool && spool.bytes > 0 ? undefined : RETRY_DELAYS_MS[attempt];
        if (delay === undefined) {
          await keepForLater(batch, error);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  async function keepForLater(batch: Waiting[], dbError: unknown): Promise<void> {
    let failure: unknown = dbError;
    if (spool) {
      try {
        if (await spool.append(batch.map((item) => item.event))) {
          counts.spooled += batch.length;
          for (const item of batch) item.resolve();
          return;
        }
        failure = new TrackingSpoolFullError(
          `tracking spool full (${spool.bytes} bytes): ${batch.length} events not kept`,
        );
      } catch (error) {
        failure = error;
      }
    }
    counts.notKept += batch.length;
    options.onError?.(failure, batch.length);
    for (const item of batch) item.reject(failure);
  }

  /** One replay round at a time; a failed write leaves the rest in the spool for the next round. */
  function startReplay(): void {
    if (!spool || replaying || !spool.pending) return;
    replaying = spool
      .replay(async (events) => {
        await writeKeepingGood(db, events);
        counts.replayed += events.length;
      })
      .then((result) => {
        if (result.replayed > 0 || result.claimed.length > 0 || result.unreadable > 0 || result.error)
          options.onReplay?.(result);
      })
      .finally(() => {
        replaying = undefined;
      });
  }

  function flush(): Promise<void> {
    if (queue.length === 0 && inFlight === 0) return Promise.resolve();
    const idle = new Promise<void>((resolve) => idleWaiters.push(resolve));
    while (queue.length > 0 && inFlight < maxConcurrent) startBatch();
    return idle;
  }

  return {
    record(event) {
      counts.accepted += 1;
      return new Promise<void>((resolve, reject) => {
        queue.push({
          event: { ...event, eventId: randomUUID(), linksClickedWithinSecond: clicksWithinSecond(event) },
          resolve,
          reject,
        });
        schedule();
      });
    },
    flush,
    async close() {
      draining = true;
      await flush();
      clearInterval(replayTimer);
      await replaying;
      await spool?.close();
    },
    get pending() {
      return queue.length + inFlight;
    },
    stats() {
      return { spoolBytes: spool?.bytes ?? 0, ...counts, queued: queue.length };
    },
  };
}

/**
 * Writes spooled events, leaving out one the database refuses for good (its issue or subscriber deleted
 * since it was answered): it can never be stored. Throws for any other failure.
 */
async function writeKeepingGood(db: Db, events: readonly IdentifiedEvent[]): Promise<void> {
  try {
    await writeEvents(db, events);
  } catch (error) {
    if (!isConstraintViolation(error)) throw error;
    if (events.length === 1) return;
    const half = Math.ceil(events.length / 2);
    await writeKeepingGood(db, events.slice(0, half));
    await writeKeepingGood(db, events.slice(half));
  }
}

function isConstraintViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('23');
}

/**
 * Classifies and stores a batch in one statement: an INSERT … SELECT over unnest()ed arrays joined to
 * the deliveries for their send times, whose RETURNING feeds the rollups (src/tracking/event-rollups.ts)
 * in the same statement. The only rule that depends on the send time is "within seconds of delivery",
 * so each event is classified twice here (as if sent just now, and with no send time) and the join
 * picks one. When a subscriber clicked every link within a second, the burst's earlier clicks (stored
 * before the burst showed) become scanner clicks, their rollups moved with them, in the same transaction.
 */
export async function writeEvents(
  db: Db,
  events: ReadonlyArray<RawTrackingEvent & { eventId?: string }>,
): Promise<void> {
  if (events.length === 0) return;
  const early = events.map((event) => classifyEvent(event, event.occurredAt));
  const late = events.map((event) => classifyEvent(event, null));
  const column = <T>(pick: (event: RawTrackingEvent & { eventId?: string }, index: number) => T) =>
    sql.val(events.map(pick));
  const insert = withRollups(sql`
    INSERT INTO tracking_events
      (kind, issue_id, subscriber_id, link_position, class, reason, method, ip, user_agent, occurred_at, event_id)
    SELECT e.kind, e.issue_id, e.subscriber_id, e.link_position,
      CASE WHEN within THEN e.early_class ELSE e.late_class END,
      CASE WHEN within THEN e.early_reason ELSE e.late_reason END,
      e.method, e.ip, e.user_agent, e.occurred_at, e.event_id
    FROM unnest(
      ${column((e) => e.kind)}::text[], ${column((e) => e.issueId)}::int[], ${column((e) => e.subscriberId)}::bigint[],
      ${column((e) => e.linkPosition)}::int[], ${column((_e, i) => early[i]?.class)}::text[],
      ${column((_e, i) => early[i]?.reason)}::text[], ${column((_e, i) => late[i]?.class)}::text[],
      ${column((_e, i) => late[i]?.reason)}::text[], ${column((e) => e.method)}::text[], ${column((e) => e.ip)}::text[],
      ${column((e) => e.userAgent?.slice(0, 500) ?? null)}::text[], ${column((e) => e.occurredAt.toISOString())}::timestamptz[],
      ${column((e) => (e.kind === 'open' ? MACHINE_OPEN_WINDOW_MS : SCANNER_CLICK_WINDOW_MS))}::int[],
      ${column((e) => e.eventId ?? null)}::uuid[]
    ) AS e(kind, issue_id, subscriber_id, link_position, early_class, early_reason, late_class, late_reason,
           method, ip, user_agent, occurred_at, window_ms, event_id)
    LEFT JOIN deliveries d ON d.issue_id = e.issue_id AND d.subscriber_id = e.subscriber_id
    CROSS JOIN LATERAL (
      SELECT d.sent_at IS NOT NULL AND extract(epoch FROM e.occurred_at - d.sent_at) * 1000 < e.window_ms AS within
    ) w
    -- Written before (a replay, or a commit whose answer was lost): stored once, counted once.
    ON CONFLICT (event_id, occurred_at) DO NOTHING
    RETURNING issue_id, subscriber_id, kind, class, link_position, 1 AS delta`);
  const bursts = events.filter((_event, index) => late[index]?.reason === 'all-links-at-once');
  if (bursts.length === 0) {
    await insert.execute(db);
    return;
  }
  await db.transaction().execute(async (trx) => {
    await insert.execute(trx);
    await reclassifyEvents(
      trx,
      {
        kind: 'click',
        since: new Date(Math.min(...bursts.map((event) => event.occurredAt.getTime())) - 1_000),
        readers: bursts.map((event) => ({ issueId: event.issueId, subscriberId: event.subscriberId })),
      },
      { class: 'scanner', reason: 'all-links-at-once' },
    );
  });
}
