import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { classifyEvent, type RawTrackingEvent } from './classify-event.ts';

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
 * Classifies and stores a batch: one query for the deliveries' send times, one INSERT for all rows, and
 * when a subscriber clicked every link within a second, one UPDATE turning that burst's earlier clicks
 * (stored before the burst showed) into scanner clicks.
 */
export async function writeEvents(db: Db, events: readonly RawTrackingEvent[]): Promise<void> {
  if (events.length === 0) return;
  const pairs = new Map<string, { issueId: number; subscriberId: string }>();
  for (const event of events) pairs.set(`${event.issueId}:${event.subscriberId}`, event);
  const issueIds = [...pairs.values()].map((pair) => pair.issueId);
  const subscriberIds = [...pairs.values()].map((pair) => pair.subscriberId);
  const deliveries = await db
    .selectFrom('deliveries')
    .select(['issue_id', 'subscriber_id', 'sent_at'])
    .where(
      sql<boolean>`(issue_id, subscriber_id) IN (SELECT * FROM unnest(${sql.val(issueIds)}::int[], ${sql.val(subscriberIds)}::bigint[]))`,
    )
    .execute();
  const sentAt = new Map(deliveries.map((row) => [`${row.issue_id}:${row.subscriber_id}`, row.sent_at]));
  const rows = events.map((event) => {
    const classification = classifyEvent(event, sentAt.get(`${event.issueId}:${event.subscriberId}`) ?? null);
    return {
      kind: event.kind,
      issue_id: event.issueId,
      subscriber_id: event.subscriberId,
      link_position: event.linkPosition,
      class: classification.class,
      reason: classification.reason,
      method: event.method,
      ip: event.ip,
      user_agent: event.userAgent?.slice(0, 500) ?? null,
      occurred_at: event.occurredAt,
    };
  });
  await db.insertInto('tracking_events').values(rows).execute();
  const bursts = rows.filter((row) => row.reason === 'all-links-at-once');
  if (bursts.length > 0) {
    const since = new Date(Math.min(...bursts.map((row) => row.occurred_at.getTime())) - 1_000);
    await db
      .updateTable('tracking_events')
      .set({ class: 'scanner', reason: 'all-links-at-once' })
      .where('kind', '=', 'click')
      .where('class', '<>', 'scanner')
      .where('occurred_at', '>=', since)
      .where((eb) =>
        eb.or(
          bursts.map((row) =>
            eb.and([eb('issue_id', '=', row.issue_id), eb('subscriber_id', '=', row.subscriber_id)]),
          ),
        ),
      )
      .execute();
  }
}
