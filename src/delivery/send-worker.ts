import { setTimeout as sleepFor } from 'node:timers/promises';
import { alertSendFinished, alertSendPaused } from '../alerts/send-alerts.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/database.ts';
import { guardVerdict, readGuard } from './deliverability-guard.ts';
import {
  type ClaimedDelivery,
  claimDeliveries,
  extendLeases,
  type Outcome,
  queueState,
  recordOutcomes,
  releaseDeliveries,
} from './delivery.repository.ts';
import type { Mailer, SendResult } from './mailer.ts';
import type { EditionMessages, MessageFactory } from './message-factory.ts';
import { type EnvelopeContext, outgoingMessage } from './outgoing-message.ts';
import { defaultRetryPolicy, nextAttemptAt, type RetryPolicy } from './retry-policy.ts';
import {
  loadSendingIssue,
  markSendFinished,
  markSendPaused,
  oldestSendingIssue,
  type SendingIssue,
} from './send-control.ts';
import { createDomainGate, createSendRateGate, type DomainGate } from './send-rate.ts';

/**
 * How long a claimed row stays reserved for a worker that stopped answering. Live workers renew their
 * leases every third of it, so a crashed worker's rows are free again within this many seconds.
 */
export const DEFAULT_LEASE_SECONDS = 20;

/** Shortest time between two result writes of one worker (the group-commit window). */
const GROUP_COMMIT_MS = 5;

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
  waiting?: { count: number; nextAt: Date | null };
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
  config: Config;
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
    const issue =
      deps.issueId !== undefined
        ? await loadSendingIssue(deps.db, { id: deps.issueId })
        : await oldestSendingIssue(deps.db);
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
      break;
    }
  }
  summary.durationMs = Math.round(performance.now() - startedAt);
  const processed = summary.sent + summary.failed + summary.bounced;
  summary.perSecond =
    summary.durationMs > 0 ? Math.round((processed / summary.durationMs) * 1000 * 10) / 10 : 0;
  return summary;
}

async function defaultMessages(
  deps: WorkerDeps,
): Promise<(issue: { id: number; week: string }) => Promise<MessageFactory>> {
  const { editionMessageFactory } = await import('./issue-messages.ts');
  return (issue) => editionMessageFactory(deps.db, deps.config, issue);
}

function describeStatus(issue: SendingIssue): string {
  return `issue ${issue.week} is ${issue.status}${issue.statusReason ? `: ${issue.statusReason}` : ''}`;
}

interface Stop {
  reason: string;
  fatal: boolean;
}

/** Sends one issue's queue until it is empty or something stops it. Returns why it stopped early, if it did. */
async function drainIssue(
  deps: WorkerDeps,
  issue: SendingIssue,
  factory: MessageFactory,
  summary: SendSummary,
): Promise<Stop | null> {
  const { db, config, workerId, mailer, signal } = deps;
  const leaseSeconds = deps.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  const retry = deps.retry ?? defaultRetryPolicy;
  const pollMs = deps.pollMs ?? 1000;
  const rate = config.smtp.sendRate;
  const batchSize = Math.max(
    1,
    Math.min(
      deps.batchSize ?? config.send.batchSize,
      rate > 0 ? Math.ceil(rate * 5) : Number.POSITIVE_INFINITY,
    ),
  );
  const concurrency = Math.max(1, deps.concurrency ?? config.smtp.maxConnections * 2);
  const gate = createSendRateGate(db, rate);
  const domainGates = new Map<string, DomainGate>();
  for (const [domain, limit] of Object.entries(config.send.domainLimits))
    domainGates.set(domain, createDomainGate(db, domain, limit));
  const paced = domainGates.size > 0;
  /** Domains that answered 421 / 4.7.x: no message to them before this instant (ms). */
  const backoffUntil = new Map<string, number>();
  const backoffStep = new Map<string, number>();
  const firstBackoffMs = deps.domainBackoffMs ?? 5000;
  /** Rows a worker may hold while paced or backed-off domains wait, so other domains keep flowing. */
  const maxLocal = batchSize * 4;
  const sendStartedAt = issue.sendStartedAt ?? new Date();
  const context: EnvelopeContext = {
    issueId: issue.id,
    fromName: config.sender.name,
    fromEmail: config.sender.email,
    bounceDomain: config.sender.bounceDomain,
    publicUrl: config.publicUrl,
    listIdDomain: listIdDomain(config),
    secrets: config.secrets,
    feedback: { campaign: issue.week, senderId: listIdDomain(config) },
  };
  const editions = new Map<string, Promise<EditionMessages | null>>();
  const editionFor = (key: string) => {
    let edition = editions.get(key);
    if (!edition) {
      edition = Promise.resolve(factory.forSegmentKey(key));
      editions.set(key, edition);
    }
    return edition;
  };

  const startedAt = performance.now();
  const total = (await queueState(db, issue.id)).queued;
  const local: ClaimedDelivery[] = [];
  /** Leased to this worker and not yet recorded: the heartbeat keeps these leases alive. */
  const held = new Set<string>();
  /** Leased but never handed to the mailer: released on stop. */
  const unsent = new Set<string>();
  const pending: Outcome[] = [];
  let lastId = '0';
  let exhausted = false;
  let stop: Stop | null = null;
  let failure: unknown;
  let consecutiveFailures = 0;
  let claiming: Promise<void> | undefined;
  let flushing: Promise<void> = Promise.resolve();
  const counts = { sent: 0, failed: 0, bounced: 0, skipped: 0, retried: 0 };

  const halt = async (reason: string, fatal: boolean) => {
    if (stop) return;
    stop = { reason, fatal };
    if (fatal && (await markSendPaused(db, issue.id, reason))) await alertSendPaused(deps, issue, reason);
  };

  const report = () => {
    deps.onProgress?.({
      issueId: issue.id,
      week: issue.week,
      ...counts,
      processed: counts.sent + counts.failed + counts.bounced + counts.skipped,
      total,
      elapsedMs: Math.round(performance.now() - startedAt),
    });
  };

  /** The write not yet started: every result pending now goes into it. */
  let nextWrite: Promise<void> | undefined;
  let lastWriteAt = 0;
  const flush = (): Promise<void> => {
    if (nextWrite) return nextWrite;
    flushing = flushing.then(async () => {
      // Group commit: writes start at most every GROUP_COMMIT_MS, so results that finish together share
      // one statement instead of keeping the database busy with one tiny write after another.
      const wait = lastWriteAt + GROUP_COMMIT_MS - performance.now();
      if (wait > 0) await sleepFor(wait);
      nextWrite = undefined;
      lastWriteAt = performance.now();
      const batch = pending.splice(0);
      if (batch.length === 0) return;
      await withRetries(() => recordOutcomes(db, workerId, batch));
      for (const outcome of batch) held.delete(outcome.id);
      report();
    });
    flushing.catch((error) => {
      failure ??= error;
      stop ??= { reason: `cannot record results: ${(error as Error).message}`, fatal: true };
    });
    nextWrite = flushing.catch(() => {});
    return nextWrite;
  };

  const claim = async (): Promise<void> => {
    for (;;) {
      if (stop || signal?.aborted) return;
      const current = await loadSendingIssue(db, { id: issue.id });
      if (current?.status !== 'sending') {
        // `??=`: a fatal stop set meanwhile (this worker's own pause, awaited above) must not be overwritten.
        stop ??= {
          reason: current ? describeStatus(current) : `issue ${issue.week} was deleted`,
          fatal: false,
        };
        return;
      }
      const params = { issueId: issue.id, workerId, limit: batchSize, leaseSeconds };
      let result = await claimDeliveries(db, { ...params, afterId: lastId });
      if (result.lastId === null && lastId !== '0') {
        // The end of the queue: sweep once from the start for retries that came due and expired leases.
        lastId = '0';
        result = await claimDeliveries(db, { ...params, afterId: lastId });
      }
      if (result.lastId !== null) lastId = result.lastId;
      if (result.skipped > 0) {
        counts.skipped += result.skipped;
        summary.skipped += result.skipped;
        report();
      }
      for (const delivery of result.deliveries) {
        local.push(delivery);
        held.add(delivery.id);
        unsent.add(delivery.id);
      }
      if (result.deliveries.length > 0) return;
      if (result.lastId !== null) continue;
      // Rows in hand wait for a paced or backed-off domain: let the lanes send them rather than wait here.
      if (local.length > 0) return;
      await flush();
      const queue = await queueState(db, issue.id);
      if (queue.queued === 0) {
        if (await markSendFinished(db, issue.id)) await alertSendFinished(deps, issue);
        exhausted = true;
        return;
      }
      if (deps.leaveWaiting && held.size === 0 && queue.notYetDue > 0 && queue.notYetDue === queue.queued) {
        // Only local-time rows are left, due over the coming hours: stop, and say so.
        summary.waiting = { count: queue.notYetDue, nextAt: queue.nextDueAt };
        stop ??= {
          reason: `${queue.notYetDue} deliveries wait for their local delivery time${queue.nextDueAt ? ` (next at ${queue.nextDueAt.toISOString()})` : ''}`,
          fatal: false,
        };
        return;
      }
      const longest = queue.notYetDue > 0 ? 30_000 : pollMs;
      const wait = held.size > 0 ? 20 : Math.min(longest, Math.max(20, queue.msUntilNext ?? pollMs));
      await sleepFor(wait, undefined, { signal }).catch(() => {});
    }
  };

  const claimOnce = () => {
    claiming ??= claim()
      .catch((error) => {
        failure ??= error;
        stop ??= { reason: `database error: ${(error as Error).message}`, fatal: true };
      })
      .finally(() => {
        claiming = undefined;
      });
    return claiming;
  };

  const settle = async (delivery: ClaimedDelivery, result: SendResult) => {
    if (result.ok) {
      consecutiveFailures = 0;
      if (backoffStep.size > 0) backoffStep.delete(domainOf(delivery.email));
      counts.sent++;
      summary.sent++;
      pending.push({ id: delivery.id, subscriberId: delivery.subscriberId, status: 'sent' });
      return;
    }
    if (result.kind === 'fatal') {
      unsent.add(delivery.id);
      await halt(result.message, true);
      return;
    }
    const smtpCode = [result.code, result.enhanced].filter(Boolean).join(' ') || undefined;
    const base = {
      id: delivery.id,
      subscriberId: delivery.subscriberId,
      kind: result.kind,
      error: result.message,
      smtpCode,
    };
    if (result.kind === 'transient' && isThrottle(result)) {
      // The receiving domain asks us to slow down: back off that domain alone; not a failure of the send.
      // Refusals of messages already in flight when the first came share its back-off; one that comes after
      // the back-off ended doubles it (up to 5 minutes). A message accepted for the domain resets it.
      const domain = domainOf(delivery.email);
      const current = backoffUntil.get(domain);
      let until: number;
      if (current !== undefined && current > Date.now()) {
        until = current;
      } else {
        const step = Math.min(5 * 60_000, (backoffStep.get(domain) ?? firstBackoffMs / 2) * 2);
        backoffStep.set(domain, step);
        until = Date.now() + step;
        backoffUntil.set(domain, until);
      }
      counts.retried++;
      summary.retried++;
      if (until > sendStartedAt.getTime() + retry.deadlineMs) {
        counts.failed++;
        summary.failed++;
        pending.push({ ...base, status: 'failed', error: `gave up: ${result.message}` });
      } else {
        pending.push({ ...base, status: 'queued', nextAttemptAt: new Date(until) });
      }
      return;
    }
    if (result.kind === 'transient') {
      const at = nextAttemptAt(retry, delivery.attempts, sendStartedAt, new Date());
      if (at) {
        counts.retried++;
        summary.retried++;
        pending.push({ ...base, status: 'queued', nextAttemptAt: at });
      } else {
        counts.failed++;
        summary.failed++;
        pending.push({
          ...base,
          status: 'failed',
          error: `gave up after ${delivery.attempts} attempts: ${result.message}`,
        });
      }
    } else if (result.kind === 'permanent' && result.enhanced?.startsWith('5.1.')) {
      counts.bounced++;
      summary.bounced++;
      pending.push({ ...base, status: 'bounced' });
    } else {
      counts.failed++;
      summary.failed++;
      pending.push({ ...base, status: 'failed' });
    }
    consecutiveFailures++;
    if (consecutiveFailures >= config.send.maxConsecutiveFailures) {
      await halt(`paused after ${consecutiveFailures} consecutive failures; last: ${result.message}`, true);
    }
  };

  const sendOne = async (delivery: ClaimedDelivery): Promise<{ written?: Promise<void> }> => {
    try {
      await gate.take(signal);
    } catch {
      return {};
    }
    if (stop) return {};
    const edition = await editionFor(delivery.segmentKey);
    unsent.delete(delivery.id);
    if (!edition) {
      counts.skipped++;
      summary.skipped++;
      pending.push({
        id: delivery.id,
        subscriberId: delivery.subscriberId,
        status: 'skipped',
        error: `nothing to send for ${delivery.segmentKey}`,
      });
      return {};
    }
    const rendered = edition.personalise({
      subscriberId: delivery.subscriberId,
      email: delivery.email,
      name: delivery.name,
      trackingEnabled: config.trackingEnabled && delivery.trackingEnabled,
    });
    await settle(delivery, await mailer.send(outgoingMessage(rendered, delivery, context)));
    // Group commit: the result is written with whatever the other lanes finished meanwhile, in one
    // statement, right away. The lane may send its next message while this write runs, but not the one
    // after (see work): a kill -9 can then repeat at most two messages per lane, not everything
    // finished since the last timed flush, and a slow commit does not stall the lane.
    return { written: flush() };
  };

  const lane = async () => {
    try {
      await work();
    } catch (error) {
      // A failure outside SMTP (rendering, the database): stop every lane, pause, report it.
      failure ??= error;
      await halt(`send failed: ${(error as Error).message}`, true).catch(() => {});
    }
  };

  /** The next row in hand whose domain may be sent to now (paced domains take a token here). */
  const nextSendable = (): ClaimedDelivery | undefined => {
    if (!paced && backoffUntil.size === 0) return local.shift();
    const now = Date.now();
    for (let i = 0; i < local.length; i++) {
      const delivery = local[i] as ClaimedDelivery;
      const domain = domainOf(delivery.email);
      const until = backoffUntil.get(domain);
      if (until !== undefined) {
        if (until > now) continue;
        backoffUntil.delete(domain);
      }
      const domainGate = paced ? domainGates.get(domain) : undefined;
      if (domainGate && !domainGate.tryTake()) continue;
      local.splice(i, 1);
      return delivery;
    }
    return undefined;
  };

  let emptyClaimAt = 0;
  const work = async () => {
    let older: Promise<void> | undefined;
    let newer: Promise<void> | undefined;
    for (;;) {
      if (stop || signal?.aborted) return;
      const delivery = nextSendable();
      if (!delivery) {
        if (exhausted && local.length === 0) return;
        const before = local.length;
        if (!exhausted && local.length < maxLocal && Date.now() - emptyClaimAt > 250) {
          await claimOnce();
          if (local.length === 0 && (exhausted || stop)) return;
          if (local.length > before) continue;
          emptyClaimAt = Date.now();
        }
        // Everything in hand waits for a paced or backed-off domain.
        await sleepFor(25, undefined, { signal }).catch(() => {});
        continue;
      }
      if (local.length < batchSize / 2 && !exhausted && !claiming) void claimOnce();
      // The result of the message before the last must be written before this one goes out.
      await older;
      older = newer;
      newer = (await sendOne(delivery)).written;
    }
  };

  const flushTimer = setInterval(() => void flush(), 250);
  let guarding = false;
  const guardTimer = setInterval(() => {
    if (guarding || stop) return;
    guarding = true;
    readGuard(db, issue.id)
      .then(async (reading) => {
        const reason = guardVerdict(reading, config.send);
        if (reason && !stop) await halt(reason, true);
      })
      .catch(() => {})
      .finally(() => {
        guarding = false;
      });
  }, deps.guardIntervalMs ?? 5000);
  const heartbeat = setInterval(
    () => void extendLeases(db, workerId, [...held], leaseSeconds).catch(() => {}),
    (leaseSeconds * 1000) / 3,
  );
  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
    await claiming;
  } finally {
    clearInterval(flushTimer);
    clearInterval(guardTimer);
    clearInterval(heartbeat);
    await flush();
    const back = [...unsent].filter((id) => held.has(id));
    await releaseDeliveries(db, workerId, back).catch(() => {});
  }
  if (failure) throw failure;
  if (!stop && signal?.aborted) stop = { reason: 'stopped by signal', fatal: false };
  return stop;
}

function domainOf(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1).toLowerCase();
}

/** 421 (service not available, try later) or 4.7.x (rate or reputation): the receiver asks us to slow down. */
function isThrottle(result: { code?: number; enhanced?: string }): boolean {
  return result.code === 421 || Boolean(result.enhanced?.startsWith('4.7.'));
}

function listIdDomain(config: Config): string {
  const domain = config.sender.email.split('@')[1] ?? 'localhost';
  return `weekly-ai-recap.${domain}`;
}

async function withRetries<T>(body: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await body();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await sleepFor(200 * attempt);
    }
  }
}
