import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

/** Attempts (since the start or the last resume) before bounce and complaint rates are judged at all. */
export const GUARD_MIN_ATTEMPTS = 500;

export interface GuardLimits {
  /** Fractions: 0.05 for 5 %. */
  maxBounceRate: number;
  maxComplaintRate: number;
}

export interface GuardReading {
  attempts: number;
  bounced: number;
  complaints: number;
}

/** Why a send should pause itself, or null. Pure: the counts come in. */
export function guardVerdict(reading: GuardReading, limits: GuardLimits): string | null {
  if (reading.attempts < GUARD_MIN_ATTEMPTS) return null;
  const percent = (n: number) => `${(Math.round((n / reading.attempts) * 10_000) / 100).toString()} %`;
  const limit = (rate: number) => `${(Math.round(rate * 10_000) / 100).toString()} %`;
  if (reading.bounced / reading.attempts > limits.maxBounceRate)
    return `deliverability guard: hard bounces at ${percent(reading.bounced)} of ${reading.attempts} attempts, over SEND_MAX_BOUNCE_RATE ${limit(limits.maxBounceRate)}`;
  if (reading.complaints / reading.attempts > limits.maxComplaintRate)
    return `deliverability guard: complaints at ${percent(reading.complaints)} of ${reading.attempts} attempts, over SEND_MAX_COMPLAINT_RATE ${limit(limits.maxComplaintRate)}`;
  return null;
}

/**
 * Counts an issue's attempts, hard bounces (at SMTP time or reported later by DSN) and spam complaints since
 * the guard's window began (the send's start or its last resume). One aggregate over the issue's rows.
 */
export async function readGuard(db: Db, issueId: number): Promise<GuardReading> {
  const { rows } = await sql<{ attempts: string; bounced: string; complaints: string }>`
    WITH issue AS (
      SELECT coalesce(guard_since, send_started_at, '-infinity'::timestamptz) AS since FROM issues WHERE id = ${issueId}
    )
    SELECT
      (SELECT count(*) FROM deliveries d, issue
        WHERE d.issue_id = ${issueId} AND d.status IN ('sent', 'bounced', 'failed') AND d.last_attempt_at >= issue.since) AS attempts,
      (SELECT count(*) FROM deliveries d, issue
        WHERE d.issue_id = ${issueId} AND d.status = 'bounced' AND d.last_attempt_at >= issue.since) AS bounced,
      (SELECT count(*) FROM consent_log c, issue
        WHERE c.action = 'complaint' AND c.occurred_at >= issue.since AND c.detail->>'issueId' = ${String(issueId)}) AS complaints
  `.execute(db);
  const row = rows[0];
  return {
    attempts: Number(row?.attempts ?? 0),
    bounced: Number(row?.bounced ?? 0),
    complaints: Number(row?.complaints ?? 0),
  };
}
