import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import {
  classifyEvent,
  MACHINE_OPEN_WINDOW_MS,
  type RawTrackingEvent,
  SCANNER_CLICK_WINDOW_MS,
} from './classify-event.ts';
import { reclassifyEvents, withRollups } from './event-rollups.ts';

export type IncomingEvent = Omit<RawTrackingEvent, 'linksClickedWithinSecond'>;

export interface EventWriterOptions {
  /** Write as soon as this many events wait. */
  maxBatch?: number;
  /** Write at the latest this long after the first event of a batch arrived. */
  maxDelayMs?: number;
  /** Batches written at the same time (each an INSERT of many rows). */
  maxConcurrent?: number;
  /** Called when a batch failed for good (after retries); the events' promises reject too. */
  onError?: (error: unknown, lost: number) => void;
}

export interface EventWriter {
  /** Queues an event; resolves once it is stored in PostgreSQL, rejects if it could not be stored after retries. */
  record(event: IncomingEvent): Promise<void>;
  /** Writes everything queued so far and waits for batches in flight. */
  flush(): Promise<void>;
  /**
   * Graceful shutdown: flushes what is queued and from then on writes each event at once (no waiting
   * for a batch), so requests still in flight while the server closes are stored too.
   */
  close(): Promise<void>;
  readonly pending: number;
}

interface Waiting {
  event: RawTrackingEvent;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const BURST_WINDOW_MS = 1_000;
const RETRY_DELAYS_MS = [50, 250, 1_000];

/**
 * Group commit for opens and clicks: events wait at most `maxDelayMs` (or until `maxBatch` are queued),
 * then one batch is classified against its deliveries' send times (one query) and stored with one
 * multi-row INSERT. A request is answered after its event is stored, so nothing acknowledged is lost;
 * close() flushes what is queued.
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
        const delay = isConstraintViolation(error) ? undefined : RETRY_DELAYS_MS[attempt];
        if (delay === undefined) {
          options.onError?.(error, batch.length);
          for (const item of batch) item.reject(error);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  function flush(): Promise<void> {
    if (queue.length === 0 && inFlight === 0) return Promise.resolve();
    const idle = new Promise<void>((resolve) => idleWaiters.push(resolve));
    while (queue.length > 0 && inFlight < maxConcurrent) startBatch();
    return idle;
  }

  return {
    record(event) {
      return new Promise<void>((resolve, reject) => {
        queue.push({
          event: { ...event, linksClickedWithinSecond: clicksWithinSecond(event) },
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
    },
    get pending() {
      return queue.length + inFlight;
    },
  };
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
export async function writeEvents(db: Db, events: readonly RawTrackingEvent[]): Promise<void> {
  if (events.length === 0) return;
  const early = events.map((event) => classifyEvent(event, event.occurredAt));
  const late = events.map((event) => classifyEvent(event, null));
  const column = <T>(pick: (event: RawTrackingEvent, index: number) => T) => sql.val(events.map(pick));
  const insert = withRollups(sql`
    INSERT INTO tracking_events
      (kind, issue_id, subscriber_id, link_position, class, reason, method, ip, user_agent, occurred_at)
    SELECT e.kind, e.issue_id, e.subscriber_id, e.link_position,
      CASE WHEN within THEN e.early_class ELSE e.late_class END,
      CASE WHEN within THEN e.early_reason ELSE e.late_reason END,
      e.method, e.ip, e.user_agent, e.occurred_at
    FROM unnest(
      ${column((e) => e.kind)}::text[], ${column((e) => e.issueId)}::int[], ${column((e) => e.subscriberId)}::bigint[],
      ${column((e) => e.linkPosition)}::int[], ${column((_e, i) => early[i]?.class)}::text[],
      ${column((_e, i) => early[i]?.reason)}::text[], ${column((_e, i) => late[i]?.class)}::text[],
      ${column((_e, i) => late[i]?.reason)}::text[], ${column((e) => e.method)}::text[], ${column((e) => e.ip)}::text[],
      ${column((e) => e.userAgent?.slice(0, 500) ?? null)}::text[], ${column((e) => e.occurredAt.toISOString())}::timestamptz[],
      ${column((e) => (e.kind === 'open' ? MACHINE_OPEN_WINDOW_MS : SCANNER_CLICK_WINDOW_MS))}::int[]
    ) AS e(kind, issue_id, subscriber_id, link_position, early_class, early_reason, late_class, late_reason,
           method, ip, user_agent, occurred_at, window_ms)
    LEFT JOIN deliveries d ON d.issue_id = e.issue_id AND d.subscriber_id = e.subscriber_id
    CROSS JOIN LATERAL (
      SELECT d.sent_at IS NOT NULL AND extract(epoch FROM e.occurred_at - d.sent_at) * 1000 < e.window_ms AS within
    ) w
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
