import { setTimeout as sleepFor } from 'node:timers/promises';

/** SQLSTATEs PostgreSQL expects the client to answer by running the whole transaction again. */
const RETRYABLE_CODES = new Set([
  '40001', // serialization_failure: a REPEATABLE READ transaction met a concurrent update
  '40P01', // deadlock_detected: PostgreSQL rolled this transaction back to break a lock cycle
]);

/** True for a serialization failure or a deadlock: the transaction was rolled back and may simply run again. */
export function isRetryableTransactionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE_CODES.has(code);
}

export interface RetryTransactionOptions {
  /** Runs of the transaction in all, the first included (default 10). */
  attempts?: number;
  /** The first wait's upper bound (default 20 ms); each wait doubles it, up to `maxDelayMs`. */
  baseDelayMs?: number;
  /** The cap of a wait (default 1 s). */
  maxDelayMs?: number;
  /** For tests: the random source of the jitter and the sleep. */
  random?: () => number;
  sleep?: (ms: number) => Promise<unknown>;
}

/**
 * Runs `transaction` (a whole `db.transaction().execute(…)`, begun afresh on every call) and runs it again
 * when PostgreSQL rolled it back for a serialization failure (40001) or a deadlock (40P01), waiting a
 * random time up to a doubling, capped bound in between ("full jitter"), so two racing processes part
 * ways instead of meeting again. Every other error, and the last retryable one, is thrown as it was.
 * The body must be safe to run again: everything it wrote was rolled back with the failed attempt.
 */
export async function retryTransaction<T>(
  transaction: () => Promise<T>,
  options: RetryTransactionOptions = {},
): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 10);
  const base = options.baseDelayMs ?? 20;
  const cap = options.maxDelayMs ?? 1000;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? sleepFor;
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (error) {
      if (attempt >= attempts || !isRetryableTransactionError(error)) throw error;
      await sleep(Math.floor(random() * Math.min(cap, base * 2 ** (attempt - 1))));
    }
  }
}
