/** How transient failures are retried: exponential backoff, capped, with jitter, until a deadline. */
export interface RetryPolicy {
  /** Delay before the first retry. */
  baseMs: number;
  /** No single wait is longer than this. */
  capMs: number;
  /** After this long since the send started, a transient failure becomes final. */
  deadlineMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  baseMs: 60_000,
  capMs: 30 * 60_000,
  deadlineMs: 24 * 3_600_000,
};

/**
 * When to try a delivery again after its `attempts`-th transient failure, or null when the retry would
 * fall past the deadline. Pure: the clock and the random draw come in. "Equal jitter": half the backoff
 * is kept, half is random, so a burst of 4xx answers does not come back as a burst.
 */
export function nextAttemptAt(
  policy: RetryPolicy,
  attempts: number,
  sendStartedAt: Date,
  now: Date,
  random: number = Math.random(),
): Date | null {
  const backoff = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempts - 1));
  const delay = backoff / 2 + (backoff / 2) * random;
  const at = now.getTime() + delay;
  if (at > sendStartedAt.getTime() + policy.deadlineMs) return null;
  return new Date(at);
}
