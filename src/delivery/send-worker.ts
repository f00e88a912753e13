import { setTimeout as sleepFor } from 'node:timers/promises';
import { describeDatabaseError, isDatabaseUnavailable } from '../db/connection-errors.ts';
import type { Db } from '../db/database.ts';
import type { Mailer } from '../mail/mailer.ts';
import { describeStatus, drainIssue } from './drain-issue.ts';
import type { MessageFactory } from './message-factory.ts';
import type { MxLookup } from './mx-pacing.ts';
import type { RetryPolicy } from './retry-policy.ts';
import { loadSendingIssue, oldestSendingIssue, type SendingIssue } from './send-control.ts';
import type { SendSettings } from './send-settings.ts';

export interface SendSummary {
  sent: number;
  failed: number;
  bounced: number;
  skipped: number;
  /** Transient failures put back in the queue for a later attempt. */
  retried: number;
  durationMs: number;
  perSecond: number;
  /** Weeks this worker worked on. */
  weeks: string[];
  /** Why the worker stopped before its issue was finished (paused, cancelled, a fatal SMTP error), if it did. */
  stoppedBecause?: string;
  /** Set when the stop needs an operator: authentication, TLS, too many consecutive failures. */
  fatal?: string;
  /** Local-time deliveries left waiting for their time when the worker stopped (leaveWaiting). */
  waiting?: { count: number; nextAt: Date | null; subjectTest?: boolean };
}

export interface SendProgress {
  issueId: number;
  week: string;
  sent: number;
  failed: number;
  bounced: number;
  skipped: number;
  retried: number;
  /** Deliveries this worker finished (sent, failed, bounced, skipped). */
  processed: number;
  /** Deliveries queued when this worker started on the issue. */
  total: number;
  elapsedMs: number;
}

export interface WorkerDeps {
  db: Db;
  mailer: Mailer;
  /** The mailer of the send's alerts (SYSTEM_SMTP_URL); default `mailer`. */
  systemMailer?: Mailer;
  config: SendSettings;
  /** Unique among live workers; leases carry it. */
  workerId: string;
  /** Work on this issue only; without it, on every issue being sent, oldest first. */
  issueId?: number;
  signal?: AbortSignal;
  onProgress?: (progress: SendProgress) => void;
  /** The messages of an issue. Defaults to the edition renderer over the issue's stored content. */
  messages?: (issue: { id: number; week: string }) => Promise<MessageFactory>;
  /** Keep waiting for new sends instead of exiting when nothing is left. */
  follow?: boolean;
  /** Seconds a claimed row stays reserved without a heartbeat (one every third of it); default 20. */
  leaseSeconds?: number;
  retry?: RetryPolicy;
  batchSize?: number;
  /** Messages in flight at once; default twice SMTP_MAX_CONNECTIONS. */
  concurrency?: number;
  /** Longest wait between looks at the queue when other workers hold the remaining rows. */
  pollMs?: number;
  /**
   * Local-time sends: stop (instead of waiting) once only deliveries whose local time has not come are
   * left; `recap send` without --wait. The summary says how many wait and until when.
   */
  leaveWaiting?: boolean;
  /** How often the deliverability guard looks at bounces and complaints; default 5 s. */
  guardIntervalMs?: number;
  /** First back-off of a domain that answered 421 or 4.7.x (doubling up to 5 minutes); default 5 s. */
  domainBackoffMs?: number;
  /** How long the SMTP relay may stay unreachable before an alert is raised; default 5 minutes. */
  relayAlertAfterMs?: number;
  /** MX lookups for the mx: keys of SEND_DOMAIN_LIMITS; default the system's resolver. */
  mxLookup?: MxLookup;
  /** Where the worker says what it waits for (the database or the relay away, and back); default silent. */
  log?: (line: string) => void;
}

/**
 * Runs one sending worker until its issue (or, without `issueId`, every issue being sent) has nothing
 * left, the issue is paused or cancelled, or the signal aborts. Claims batches (lease + SKIP LOCKED,
 * walking forward by id), sends with no database lock held, records results in batches under its lease.
 * Any number of workers, in any number of processes, may share one database. Never throws for delivery
 * problems; throws only when the database fails.
 */
export async function runWorker(deps: WorkerDeps): Promise<SendSummary> {
  const startedAt = performance.now();
  const summary: SendSummary = {
    sent: 0,
    failed: 0,
    bounced: 0,
    skipped: 0,
    retried: 0,
    durationMs: 0,
    perSecond: 0,
    weeks: [],
  };
  const messages = deps.messages ?? (await defaultMessages(deps));
  for (;;) {
    if (deps.signal?.aborted) break;
    const issue = await findIssue(deps);
    if (issue?.status !== 'sending') {
      if (deps.issueId !== undefined) {
        if (issue && issue.status !== 'sent') summary.stoppedBecause = describeStatus(issue);
        break;
      }
      if (!deps.follow) break;
      await sleepFor(deps.pollMs ?? 5000, undefined, { signal: deps.signal }).catch(() => {});
      continue;
    }
    if (!summary.weeks.includes(issue.week)) summary.weeks.push(issue.week);
    const stop = await drainIssue(deps, issue, await messages(issue), summary);
    if (stop) {
      summary.stoppedBecause = stop.reason;
      if (stop.fatal) summary.fatal = stop.reason;
      if (deps.issueId !== undefined || stop.fatal || deps.signal?.aborted) break;
    } else if (deps.issueId !== undefined) {
      // A cancel can take every queued row before the drain reads the new status: the queue is then
      // simply empty, and only the issue says why.
      const after = await findIssue(deps);
      if (after && after.status !== 'sending' && after.status !== 'sent')
        summary.stoppedBecause = describeStatus(after);
      break;
    }
  }
  summary.durationMs = Math.round(performance.now() - startedAt);
  const processed = summary.sent + summary.failed + summary.bounced;
  summary.perSecond =
    summary.durationMs > 0 ? Math.round((processed / summary.durationMs) * 1000 * 10) / 10 : 0;
  return summary;
}

/**
 * The issue to work on next, waiting out a database outage: for as long as it lasts with --follow (a
 * long-running worker outlives it), else for at most SEND_DB_OUTAGE_MAX; then the error is thrown.
 */
async function findIssue(deps: WorkerDeps): Promise<SendingIssue | null> {
  const since = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      const issue =
        deps.issueId !== undefined
          ? await loadSendingIssue(deps.db, { id: deps.issueId })
          : await oldestSendingIssue(deps.db);
      // Said once the wait is over, so the log shows when sending could carry on.
      if (attempt > 0)
        deps.log?.(
          `PostgreSQL answers again after ${Math.round((Date.now() - since) / 1000)} s: carrying on`,
        );
      return issue;
    } catch (error) {
      if (!isDatabaseUnavailable(error) || deps.signal?.aborted) throw error;
      if (!deps.follow && Date.now() - since >= deps.config.send.dbOutageMaxMs) throw error;
      if (attempt === 0)
        deps.log?.(`PostgreSQL does not answer (${describeDatabaseError(error)}): waiting for it`);
      const backoff = Math.min(30_000, 500 * 2 ** Math.min(attempt, 10));
      await sleepFor(backoff / 2 + (backoff / 2) * Math.random(), undefined, { signal: deps.signal }).catch(
        () => {},
      );
    }
  }
}

async function defaultMessages(
  deps: WorkerDeps,
): Promise<(issue: { id: number; week: string }) => Promise<MessageFactory>> {
  const { editionMessageFactory } = await import('./issue-messages.ts');
  return (issue) => editionMessageFactory(deps.db, deps.config, issue);
}
