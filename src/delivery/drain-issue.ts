import { setTimeout as sleepFor } from 'node:timers/promises';
import { alertRelayUnreachable, alertSendFinished, alertSendPaused } from '../alerts/send-alerts.ts';
import { describeDatabaseError, isDatabaseUnavailable } from '../db/connection-errors.ts';
import type { SubjectVariant } from '../db/database.ts';
import type { SendResult } from '../mail/mailer.ts';
import { guardVerdict, readGuard } from './deliverability-guard.ts';
import {
  type ClaimedDelivery,
  claimDeliveries,
  DEFAULT_LEASE_SECONDS,
  extendLeases,
  type Outcome,
  queueState,
  recordOutcomes,
  releaseDeliveries,
} from './delivery.repository.ts';
import type { EditionMessages, MessageFactory } from './message-factory.ts';
import { sendProviderKeys, systemMxLookup } from './mx-pacing.ts';
import { type EnvelopeContext, outgoingMessage } from './outgoing-message.ts';
import { defaultRetryPolicy, nextAttemptAt, type RetryPolicy } from './retry-policy.ts';
import { loadSendingIssue, markSendFinished, markSendPaused, type SendingIssue } from './send-control.ts';
import { createDomainGate, createSendRateGate, type DomainGate, type SendRateGate } from './send-rate.ts';
import type { SendSettings } from './send-settings.ts';
import type { SendSummary, WorkerDeps } from './send-worker.ts';
import type { DecisionRule } from './subject-decision.ts';
import { decideDueSubjectTest, pendingDecisionAt } from './subject-test.repository.ts';

/** Shortest time between two result writes of one worker (the group-commit window). */
const GROUP_COMMIT_MS = 5;
/** Back-off between looks for a database that went away: doubling from the first, capped, with jitter. */
const DB_RETRY_FIRST_MS = 250;
const DB_RETRY_CAP_MS = 5000;
/** Back-off of a relay that cannot be reached: doubling from the first, capped, with jitter. */
const RELAY_RETRY_FIRST_MS = 500;
const RELAY_RETRY_CAP_MS = 5000;

/** The database stayed away longer than SEND_DB_OUTAGE_MAX: the send stops and pauses itself. */
class DatabaseOutageError extends Error {
  override name = 'DatabaseOutageError';
}

export interface Stop {
  reason: string;
  fatal: boolean;
}

/**
 * Everything one worker's pass over one issue knows: its settings, fixed when it starts, and the state
 * its four steps share — claim (rows leased into `local`), send (lanes take rows from `local`), settle
 * (each result becomes a pending outcome) and flush (pending outcomes written in one statement).
 */
interface Drain {
  readonly deps: WorkerDeps;
  readonly issue: SendingIssue;
  readonly summary: SendSummary;
  readonly leaseSeconds: number;
  readonly retry: RetryPolicy;
  readonly pollMs: number;
  readonly batchSize: number;
  readonly concurrency: number;
  /** Rows a worker may hold while paced or backed-off domains wait, so other domains keep flowing. */
  readonly maxLocal: number;
  readonly gate: SendRateGate;
  readonly domainGates: ReadonlyMap<string, DomainGate>;
  /** Recipient domain -> its mailbox provider's key (`mx:google.com`), for domains under an mx: limit. */
  readonly providerKeys: ReadonlyMap<string, string>;
  /** One gate per mx: key of SEND_DOMAIN_LIMITS, shared by every domain that provider takes mail for. */
  readonly providerGates: ReadonlyMap<string, DomainGate>;
  readonly firstBackoffMs: number;
  readonly sendStartedAt: Date;
  readonly context: EnvelopeContext;
  readonly editions: Map<string, Promise<EditionMessages | null>>;
  readonly factory: MessageFactory;
  readonly startedAt: number;
  readonly total: number;
  readonly counts: { sent: number; failed: number; bounced: number; skipped: number; retried: number };
  /** Claimed rows not yet handed to a lane. */
  readonly local: ClaimedDelivery[];
  /** Leased to this worker and not yet recorded: the heartbeat keeps these leases alive. */
  readonly held: Set<string>;
  /** Leased but never handed to the mailer: released on stop. */
  readonly unsent: Set<string>;
  /** Results not yet written. */
  readonly pending: Outcome[];
  /** Set while PostgreSQL does not answer: no claim and no new message until it does. */
  outage: { since: number; cause: string } | null;
  /** An outage may have let this worker's leases lapse: they are renewed before the next claim. */
  leasesMayHaveLapsed: boolean;
  readonly outageMaxMs: number;
  /** The relay could not be reached: no message before `until` (ms); readers are not to blame. */
  readonly relay: {
    downSince: number | null;
    until: number;
    step: number;
    cause: string;
    alerted: boolean;
    /** Messages the relay took: a message that fails "as the relay" while others go through is suspect. */
    delivered: number;
  };
  /** Per delivery: relay failures that came while the relay carried other messages meanwhile. */
  readonly relayStrikes: Map<string, { delivered: number; strikes: number }>;
  readonly relayAlertAfterMs: number;
  /** The pause (and its alert) of a fatal stop, once started: awaited before the pass returns. */
  halting: Promise<void>;
  /** Domains that answered 421 / 4.7.x: no message to them before this instant (ms). */
  readonly backoffUntil: Map<string, number>;
  readonly backoffStep: Map<string, number>;
  lastId: string;
  exhausted: boolean;
  stop: Stop | null;
  failure: unknown;
  consecutiveFailures: number;
  claiming: Promise<void> | undefined;
  flushing: Promise<void>;
  /** The write not yet started: every result pending now goes into it. */
  nextWrite: Promise<void> | undefined;
  lastWriteAt: number;
  emptyClaimAt: number;
}

/** Sends one issue's queue until it is empty or something stops it. Returns why it stopped early, if it did. */
export async function drainIssue(
  deps: WorkerDeps,
  issue: SendingIssue,
  factory: MessageFactory,
  summary: SendSummary,
): Promise<Stop | null> {
  const d = await startDrain(deps, issue, factory, summary);
  const { db, workerId } = deps;
  const flushTimer = setInterval(() => void flush(d), 250);
  let guarding = false;
  const guardTimer = setInterval(() => {
    if (guarding || d.stop) return;
    guarding = true;
    readGuard(db, issue.id)
      .then(async (reading) => {
        const reason = guardVerdict(reading, deps.config.send);
        if (reason && !d.stop) await halt(d, reason, true);
      })
      .catch(() => {})
      .finally(() => {
        guarding = false;
      });
  }, deps.guardIntervalMs ?? 5000);
  const heartbeat = setInterval(
    () => void extendLeases(db, workerId, [...d.held], d.leaseSeconds).catch(() => {}),
    (d.leaseSeconds * 1000) / 3,
  );
  try {
    await Promise.all(Array.from({ length: d.concurrency }, () => lane(d)));
    await d.claiming;
  } finally {
    clearInterval(flushTimer);
    clearInterval(guardTimer);
    clearInterval(heartbeat);
    await flush(d);
    await d.halting;
    const back = [...d.unsent].filter((id) => d.held.has(id));
    await releaseDeliveries(db, workerId, back).catch(() => {});
  }
  if (d.failure) throw d.failure;
  if (!d.stop && deps.signal?.aborted) d.stop = { reason: 'stopped by signal', fatal: false };
  return d.stop;
}

/** The settings of a pass, from the worker's options and the configuration, and its empty state. */
async function startDrain(
  deps: WorkerDeps,
  issue: SendingIssue,
  factory: MessageFactory,
  summary: SendSummary,
): Promise<Drain> {
  const { db, config } = deps;
  const rate = config.smtp.sendRate;
  const batchSize = Math.max(
    1,
    Math.min(
      deps.batchSize ?? config.send.batchSize,
      rate > 0 ? Math.ceil(rate * 5) : Number.POSITIVE_INFINITY,
    ),
  );
  const { domainGates, providerGates, providerKeys } = await pacingGates(deps, issue);
  const startedAt = performance.now();
  const total = (await queueState(db, issue.id)).queued;
  return {
    deps,
    issue,
    summary,
    leaseSeconds: deps.leaseSeconds ?? DEFAULT_LEASE_SECONDS,
    retry: deps.retry ?? defaultRetryPolicy,
    pollMs: deps.pollMs ?? 1000,
    batchSize,
    concurrency: Math.max(1, deps.concurrency ?? config.smtp.maxConnections * 2),
    maxLocal: batchSize * 4,
    gate: createSendRateGate(db, rate),
    domainGates,
    providerKeys,
    providerGates,
    firstBackoffMs: deps.domainBackoffMs ?? 5000,
    sendStartedAt: issue.sendStartedAt ?? new Date(),
    context: {
      issueId: issue.id,
      fromName: config.sender.name,
      fromEmail: config.sender.email,
      bounceDomain: config.sender.bounceDomain,
      publicUrl: config.publicUrl,
      listIdDomain: listIdDomain(config),
      secrets: config.secrets,
      feedback: { campaign: issue.week, senderId: listIdDomain(config) },
      relayProvider: config.smtp.provider,
    },
    editions: new Map(),
    factory,
    startedAt,
    total,
    counts: { sent: 0, failed: 0, bounced: 0, skipped: 0, retried: 0 },
    local: [],
    held: new Set(),
    unsent: new Set(),
    pending: [],
    outage: null,
    leasesMayHaveLapsed: false,
    outageMaxMs: config.send.dbOutageMaxMs,
    relay: { downSince: null, until: 0, step: 0, cause: '', alerted: false, delivered: 0 },
    relayStrikes: new Map(),
    relayAlertAfterMs: deps.relayAlertAfterMs ?? 5 * 60_000,
    halting: Promise.resolve(),
    backoffUntil: new Map(),
    backoffStep: new Map(),
    lastId: '0',
    exhausted: false,
    stop: null,
    failure: undefined,
    consecutiveFailures: 0,
    claiming: undefined,
    flushing: Promise.resolve(),
    nextWrite: undefined,
    lastWriteAt: 0,
    emptyClaimAt: 0,
  };
}

/**
 * The gates of SEND_DOMAIN_LIMITS: one per limited domain, one per mailbox provider (mx: keys), and which
 * provider each recipient domain of the send belongs to (resolved once per send, see sendProviderKeys).
 */
async function pacingGates(deps: WorkerDeps, issue: SendingIssue) {
  const { db, config } = deps;
  const domainGates = new Map<string, DomainGate>();
  for (const [domain, limit] of Object.entries(config.send.domainLimits))
    domainGates.set(domain, createDomainGate(db, domain, limit));
  const providerGates = new Map<string, DomainGate>();
  for (const [suffix, limit] of Object.entries(config.send.mxLimits))
    providerGates.set(`mx:${suffix}`, createDomainGate(db, `mx:${suffix}`, limit));
  const providerKeys =
    providerGates.size === 0
      ? new Map<string, string>()
      : await sendProviderKeys(
          db,
          issue.id,
          Object.keys(config.send.mxLimits),
          deps.mxLookup ?? systemMxLookup,
        );
  return { domainGates, providerGates, providerKeys };
}

function editionFor(d: Drain, key: string, variant: SubjectVariant | null): Promise<EditionMessages | null> {
  const cacheKey = variant ? `${key}|${variant}` : key;
  let edition = d.editions.get(cacheKey);
  if (!edition) {
    edition = Promise.resolve(variant ? d.factory.forSegmentKey(key, variant) : d.factory.forSegmentKey(key));
    d.editions.set(cacheKey, edition);
  }
  return edition;
}

/** Stops the pass; a fatal stop pauses the send (waiting for the database if it is away) and alerts. */
function halt(d: Drain, reason: string, fatal: boolean): Promise<void> {
  if (d.stop) return d.halting;
  d.stop = { reason, fatal };
  if (fatal) d.halting = pauseAndAlert(d, reason);
  return d.halting;
}

async function pauseAndAlert(d: Drain, reason: string): Promise<void> {
  if (await untilDatabaseAnswers(d, () => markSendPaused(d.deps.db, d.issue.id, reason), true))
    await alertSendPaused(alertContext(d), d.issue, reason);
}

/**
 * Runs a database step, waiting out an outage: while PostgreSQL does not answer (connection refused or
 * lost, shutting down, starting up), the step is tried again with capped, jittered back-off, and the
 * lanes send nothing new. After SEND_DB_OUTAGE_MAX the send stops and pauses itself; an impatient step
 * then throws, a `patient` one (writing results already sent, or the pause) keeps trying until the
 * database answers, as dropping it would send those messages again. Other errors are thrown at once.
 */
async function untilDatabaseAnswers<T>(d: Drain, step: () => Promise<T>, patient = false): Promise<T> {
  const { signal, log } = d.deps;
  for (let attempt = 0; ; attempt++) {
    try {
      const value = await step();
      if (d.outage) {
        log?.(`PostgreSQL answers again after ${formatMs(Date.now() - d.outage.since)}; sending on`);
        d.outage = null;
      }
      return value;
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      if (!d.outage) {
        d.outage = { since: Date.now(), cause: describeDatabaseError(error) };
        d.leasesMayHaveLapsed = true;
        log?.(
          `PostgreSQL does not answer (${d.outage.cause}): holding the results of messages already sent and sending nothing new until it does (at most SEND_DB_OUTAGE_MAX, ${formatMs(d.outageMaxMs)})`,
        );
      }
      if (Date.now() - d.outage.since >= d.outageMaxMs) {
        const reason = `PostgreSQL unreachable for more than ${formatMs(d.outageMaxMs)} (SEND_DB_OUTAGE_MAX): ${d.outage.cause}`;
        void halt(d, reason, true);
        if (!patient) throw new DatabaseOutageError(reason);
      }
      // An operator's stop ends the wait of a step that holds nothing; results already sent are still kept.
      if (!patient && signal?.aborted) throw error;
      const backoff = Math.min(DB_RETRY_CAP_MS, DB_RETRY_FIRST_MS * 2 ** Math.min(attempt, 10));
      await sleepFor(backoff / 2 + (backoff / 2) * Math.random());
    }
  }
}

function report(d: Drain): void {
  const { counts } = d;
  d.deps.onProgress?.({
    issueId: d.issue.id,
    week: d.issue.week,
    ...counts,
    processed: counts.sent + counts.failed + counts.bounced + counts.skipped,
    total: d.total,
    elapsedMs: Math.round(performance.now() - d.startedAt),
  });
}

/** Flush step: writes every pending result in one statement, at most every GROUP_COMMIT_MS. */
function flush(d: Drain): Promise<void> {
  if (d.nextWrite) return d.nextWrite;
  d.flushing = d.flushing.then(async () => {
    // Group commit: writes start at most every GROUP_COMMIT_MS, so results that finish together share
    // one statement instead of keeping the database busy with one tiny write after another.
    const wait = d.lastWriteAt + GROUP_COMMIT_MS - performance.now();
    if (wait > 0) await sleepFor(wait);
    d.nextWrite = undefined;
    d.lastWriteAt = performance.now();
    const batch = d.pending.splice(0);
    if (batch.length === 0) return;
    await withRetries(() =>
      untilDatabaseAnswers(d, () => recordOutcomes(d.deps.db, d.deps.workerId, batch), true),
    );
    for (const outcome of batch) d.held.delete(outcome.id);
    report(d);
  });
  d.flushing.catch((error) => {
    d.failure ??= error;
    d.stop ??= { reason: `cannot record results: ${(error as Error).message}`, fatal: true };
  });
  d.nextWrite = d.flushing.catch(() => {});
  return d.nextWrite;
}

/**
 * Claim step: leases the next batch into `local`, walking forward by id; at the end of the queue, sweeps
 * once from the start, marks the issue finished when nothing is left, or waits for rows to come due.
 */
async function claim(d: Drain): Promise<void> {
  const { db, workerId, signal } = d.deps;
  const { issue } = d;
  for (;;) {
    if (d.stop || signal?.aborted) return;
    if (d.leasesMayHaveLapsed) await renewLeases(d);
    const current = await untilDatabaseAnswers(d, () => loadSendingIssue(db, { id: issue.id }));
    if (current?.status !== 'sending') {
      // `??=`: a fatal stop set meanwhile (this worker's own pause, awaited above) must not be overwritten.
      d.stop ??= {
        reason: current ? describeStatus(current) : `issue ${issue.week} was deleted`,
        fatal: false,
      };
      return;
    }
    const params = { issueId: issue.id, workerId, limit: d.batchSize, leaseSeconds: d.leaseSeconds };
    let result = await untilDatabaseAnswers(d, () => claimDeliveries(db, { ...params, afterId: d.lastId }));
    if (result.lastId === null && d.lastId !== '0') {
      // The end of the queue: sweep once from the start for retries that came due and expired leases.
      d.lastId = '0';
      result = await untilDatabaseAnswers(d, () => claimDeliveries(db, { ...params, afterId: d.lastId }));
    }
    if (result.lastId !== null) d.lastId = result.lastId;
    if (result.skipped > 0) {
      d.counts.skipped += result.skipped;
      d.summary.skipped += result.skipped;
      report(d);
    }
    for (const delivery of result.deliveries) {
      // A lease of ours that lapsed in an outage, taken again: the row is in hand (or its result pending).
      if (d.held.has(delivery.id)) continue;
      d.local.push(delivery);
      d.held.add(delivery.id);
      d.unsent.add(delivery.id);
    }
    if (result.deliveries.length > 0) return;
    if (result.lastId !== null) continue;
    // Rows in hand wait for a paced or backed-off domain: let the lanes send them rather than wait here.
    if (d.local.length > 0) return;
    if (await queueDrained(d)) return;
  }
}

/**
 * Nothing claimable now: finishes the issue when its queue is empty, stops when only rows due at a later
 * local time are left (and the worker may leave), else waits. True when the claim loop should return.
 */
async function queueDrained(d: Drain): Promise<boolean> {
  const { db, signal } = d.deps;
  await flush(d);
  // A subject test whose time has come is decided here (once, whichever process gets there first): its
  // held rows then carry the winner and are claimed like any other.
  const rule = subjectRule(d.deps.config);
  const decided = await untilDatabaseAnswers(d, () => decideDueSubjectTest(db, d.issue.id, rule));
  if (decided) {
    d.deps.log?.(`subject test of ${d.issue.week} decided: ${decided.reason}`);
    return false;
  }
  const queue = await untilDatabaseAnswers(d, () => queueState(db, d.issue.id));
  if (queue.queued === 0) {
    if (await untilDatabaseAnswers(d, () => markSendFinished(db, d.issue.id)))
      await alertSendFinished(alertContext(d), d.issue);
    d.exhausted = true;
    return true;
  }
  if (d.deps.leaveWaiting && d.held.size === 0 && queue.notYetDue > 0 && queue.notYetDue === queue.queued) {
    // Only rows due later are left (local time, or held for a subject test's winner): stop, and say so.
    const decideAt = await untilDatabaseAnswers(d, () => pendingDecisionAt(db, d.issue.id));
    d.summary.waiting = {
      count: queue.notYetDue,
      nextAt: queue.nextDueAt,
      ...(decideAt ? { subjectTest: true } : {}),
    };
    d.stop ??= {
      reason: decideAt
        ? `${queue.notYetDue} deliveries wait for the subject test's winner (decided at ${decideAt.toISOString()})`
        : `${queue.notYetDue} deliveries wait for their local delivery time${queue.nextDueAt ? ` (next at ${queue.nextDueAt.toISOString()})` : ''}`,
      fatal: false,
    };
    return true;
  }
  const longest = queue.notYetDue > 0 ? 30_000 : d.pollMs;
  const wait = d.held.size > 0 ? 20 : Math.min(longest, Math.max(20, queue.msUntilNext ?? d.pollMs));
  await sleepFor(wait, undefined, { signal }).catch(() => {});
  return false;
}

/** One claim at a time per worker: lanes that find nothing in hand share it. */
function claimOnce(d: Drain): Promise<void> {
  d.claiming ??= claim(d)
    .catch((error) => {
      // Waited SEND_DB_OUTAGE_MAX for the database (the send is pausing itself, see untilDatabaseAnswers),
      // or stopped by an operator while it was away: neither is a failure of the worker.
      if (error instanceof DatabaseOutageError) return;
      if (d.deps.signal?.aborted && isDatabaseUnavailable(error)) return;
      d.failure ??= error;
      d.stop ??= { reason: `database error: ${(error as Error).message}`, fatal: true };
    })
    .finally(() => {
      d.claiming = undefined;
    });
  return d.claiming;
}

/** Settle step: turns the mailer's answer into a pending outcome; stops the send on a fatal answer. */
async function settle(d: Drain, delivery: ClaimedDelivery, result: SendResult): Promise<void> {
  const { counts, summary, pending } = d;
  if (result.ok) {
    d.consecutiveFailures = 0;
    d.relay.delivered++;
    if (d.relay.downSince !== null) relayBack(d);
    if (d.relayStrikes.size > 0) d.relayStrikes.delete(delivery.id);
    if (d.backoffStep.size > 0) d.backoffStep.delete(domainOf(delivery.email));
    counts.sent++;
    summary.sent++;
    pending.push({
      id: delivery.id,
      subscriberId: delivery.subscriberId,
      status: 'sent',
      ...(result.relayMessageId ? { relayMessageId: result.relayMessageId } : {}),
      ...(result.relay ? { relay: result.relay } : {}),
    });
    return;
  }
  if (result.kind === 'fatal') {
    d.unsent.add(delivery.id);
    await halt(d, result.message, true);
    return;
  }
  if (result.relay && !failsAlone(d, delivery)) {
    relayDown(d, delivery, result.message);
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
    settleThrottled(d, delivery, base, result.message);
    return;
  }
  if (result.kind === 'transient') {
    const at = nextAttemptAt(d.retry, delivery.attempts, d.sendStartedAt, new Date());
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
  d.consecutiveFailures++;
  if (d.consecutiveFailures >= d.deps.config.send.maxConsecutiveFailures) {
    await halt(
      d,
      `paused after ${d.consecutiveFailures} consecutive failures; last: ${result.message}`,
      true,
    );
  }
}

/**
 * The receiving domain asks us to slow down: back off that domain alone; not a failure of the send.
 * Refusals of messages already in flight when the first came share its back-off; one that comes after
 * the back-off ended doubles it (up to 5 minutes). A message accepted for the domain resets it.
 */
function settleThrottled(
  d: Drain,
  delivery: ClaimedDelivery,
  base: Omit<Outcome, 'status'>,
  message: string,
): void {
  const domain = domainOf(delivery.email);
  const current = d.backoffUntil.get(domain);
  let until: number;
  if (current !== undefined && current > Date.now()) {
    until = current;
  } else {
    const step = Math.min(5 * 60_000, (d.backoffStep.get(domain) ?? d.firstBackoffMs / 2) * 2);
    d.backoffStep.set(domain, step);
    until = Date.now() + step;
    d.backoffUntil.set(domain, until);
  }
  d.counts.retried++;
  d.summary.retried++;
  if (until > d.sendStartedAt.getTime() + d.retry.deadlineMs) {
    d.counts.failed++;
    d.summary.failed++;
    d.pending.push({ ...base, status: 'failed', error: `gave up: ${message}` });
  } else {
    d.pending.push({ ...base, status: 'queued', nextAttemptAt: new Date(until) });
  }
}

/**
 * The relay could not be reached (refused, timed out, TLS, 421 at the greeting): the message goes back in
 * hand for after a back-off of the relay (shared by the messages in flight when it began, doubling up to
 * RELAY_RETRY_CAP_MS, with jitter). Not a reader's failure: it counts toward no pause; an alert is raised
 * once the relay has been away longer than relayAlertAfterMs.
 */
function relayDown(d: Drain, delivery: ClaimedDelivery, message: string): void {
  const { relay } = d;
  const now = Date.now();
  d.local.unshift(delivery);
  d.unsent.add(delivery.id);
  relay.cause = message;
  if (relay.downSince === null) {
    relay.downSince = now;
    d.deps.log?.(`the SMTP relay cannot be reached (${message}): holding messages and trying again`);
  }
  if (relay.until <= now) {
    relay.step = Math.min(RELAY_RETRY_CAP_MS, relay.step > 0 ? relay.step * 2 : RELAY_RETRY_FIRST_MS);
    relay.until = now + relay.step / 2 + (relay.step / 2) * Math.random();
  }
  if (!relay.alerted && now - relay.downSince >= d.relayAlertAfterMs) {
    relay.alerted = true;
    void alertRelayUnreachable(alertContext(d), d.issue, {
      since: new Date(relay.downSince),
      cause: message,
    });
  }
}

/**
 * A message whose connection broke three times while the relay carried other messages in between is the
 * message's problem (one the relay drops), not the relay's: it is then retried and counted as a failure.
 */
function failsAlone(d: Drain, delivery: ClaimedDelivery): boolean {
  const seen = d.relayStrikes.get(delivery.id);
  const strikes = (seen?.strikes ?? 0) + (seen && seen.delivered < d.relay.delivered ? 1 : 0);
  d.relayStrikes.set(delivery.id, { delivered: d.relay.delivered, strikes });
  return strikes >= 3;
}

function relayBack(d: Drain): void {
  const { relay } = d;
  if (relay.downSince !== null)
    d.deps.log?.(`the SMTP relay answers again after ${formatMs(Date.now() - relay.downSince)}`);
  relay.downSince = null;
  relay.step = 0;
  relay.until = 0;
  relay.alerted = false;
}

/** After an outage: writes the results held and renews the leases of the rows still in hand. */
async function renewLeases(d: Drain): Promise<void> {
  await flush(d);
  const ids = [...d.held];
  await untilDatabaseAnswers(d, () => extendLeases(d.deps.db, d.deps.workerId, ids, d.leaseSeconds));
  d.leasesMayHaveLapsed = false;
}

/** Send step: one message through the rate gate and the mailer, then its result settled and flushed. */
async function sendOne(d: Drain, delivery: ClaimedDelivery): Promise<{ written?: Promise<void> }> {
  try {
    // SEND_RATE's tokens live in PostgreSQL: an outage here waits like any other step.
    await untilDatabaseAnswers(d, () => d.gate.take(d.deps.signal));
  } catch {
    // Stopped (or the database stayed away too long): the row goes back in hand, to be released.
    d.local.unshift(delivery);
    return {};
  }
  if (d.stop) return {};
  const edition = await editionFor(d, delivery.segmentKey, delivery.subjectVariant ?? null);
  d.unsent.delete(delivery.id);
  if (!edition) {
    d.counts.skipped++;
    d.summary.skipped++;
    d.pending.push({
      id: delivery.id,
      subscriberId: delivery.subscriberId,
      status: 'skipped',
      error: `nothing to send for ${delivery.segmentKey}`,
    });
    return {};
  }
  const tracked = d.deps.config.trackingEnabled && delivery.trackingEnabled;
  // The order stored with the delivery (the same on every attempt); untracked copies stay editorial.
  const order = tracked && d.deps.config.personalOrder ? (delivery.storyOrder ?? null) : null;
  const rendered = edition.personalise(
    {
      subscriberId: delivery.subscriberId,
      email: delivery.email,
      name: delivery.name,
      trackingEnabled: tracked,
    },
    order,
  );
  await settle(d, delivery, await d.deps.mailer.send(outgoingMessage(rendered, delivery, d.context)));
  // Group commit: the result is written with whatever the other lanes finished meanwhile, in one
  // statement, right away. The lane may send its next message while this write runs, but not the one
  // after (see work): a kill -9 can then repeat at most two messages per lane, not everything
  // finished since the last timed flush, and a slow commit does not stall the lane.
  return { written: flush(d) };
}

async function lane(d: Drain): Promise<void> {
  try {
    await work(d);
  } catch (error) {
    // A failure outside SMTP (rendering, the database): stop every lane, pause, report it.
    d.failure ??= error;
    await halt(d, `send failed: ${(error as Error).message}`, true).catch(() => {});
  }
}

/** The next row in hand whose domain may be sent to now (paced domains take a token here). */
function nextSendable(d: Drain): ClaimedDelivery | undefined {
  const { local, backoffUntil, domainGates, providerGates } = d;
  if (domainGates.size === 0 && providerGates.size === 0 && backoffUntil.size === 0) return local.shift();
  const now = Date.now();
  for (let i = 0; i < local.length; i++) {
    const delivery = local[i] as ClaimedDelivery;
    const domain = domainOf(delivery.email);
    const until = backoffUntil.get(domain);
    if (until !== undefined) {
      if (until > now) continue;
      backoffUntil.delete(domain);
    }
    const provider = d.providerKeys.get(domain);
    const providerGate = provider === undefined ? undefined : providerGates.get(provider);
    if (providerGate && !providerGate.tryTake()) continue;
    const domainGate = domainGates.get(domain);
    if (domainGate && !domainGate.tryTake()) continue;
    local.splice(i, 1);
    return delivery;
  }
  return undefined;
}

/** One lane: sends the rows in hand one after another, claiming more when they run low. */
async function work(d: Drain): Promise<void> {
  const { signal } = d.deps;
  let older: Promise<void> | undefined;
  let newer: Promise<void> | undefined;
  for (;;) {
    if (d.stop || signal?.aborted) return;
    // PostgreSQL away (nothing new goes out that could not be recorded) or the relay backing off.
    const pausedUntil = d.outage ? Date.now() + 100 : d.relay.until;
    if (pausedUntil > Date.now()) {
      await sleepFor(Math.min(250, pausedUntil - Date.now()), undefined, { signal }).catch(() => {});
      continue;
    }
    const delivery = nextSendable(d);
    if (!delivery) {
      if (d.exhausted && d.local.length === 0) return;
      const before = d.local.length;
      if (!d.exhausted && d.local.length < d.maxLocal && Date.now() - d.emptyClaimAt > 250) {
        await claimOnce(d);
        if (d.local.length === 0 && (d.exhausted || d.stop)) return;
        if (d.local.length > before) continue;
        d.emptyClaimAt = Date.now();
      }
      // Everything in hand waits for a paced or backed-off domain.
      await sleepFor(25, undefined, { signal }).catch(() => {});
      continue;
    }
    if (d.local.length < d.batchSize / 2 && !d.exhausted && !d.claiming) void claimOnce(d);
    // The result of the message before the last must be written before this one goes out.
    await older;
    older = newer;
    newer = (await sendOne(d, delivery)).written;
  }
}

/** What the send's alerts go through: the system relay (SYSTEM_SMTP_URL) when the worker has one. */
function alertContext(d: Drain): WorkerDeps {
  return d.deps.systemMailer ? { ...d.deps, mailer: d.deps.systemMailer } : d.deps;
}

export function describeStatus(issue: SendingIssue): string {
  return `issue ${issue.week} is ${issue.status}${issue.statusReason ? `: ${issue.statusReason}` : ''}`;
}

function formatMs(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

function domainOf(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1).toLowerCase();
}

/** 421 (service not available, try later) or 4.7.x (rate or reputation): the receiver asks us to slow down. */
function isThrottle(result: { code?: number; enhanced?: string }): boolean {
  return result.code === 421 || Boolean(result.enhanced?.startsWith('4.7.'));
}

function listIdDomain(config: SendSettings): string {
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

/** The decision rule of subject tests, from SUBJECT_TEST_MIN_CLICKS and SUBJECT_TEST_CONFIDENCE. */
export function subjectRule(config: Pick<SendSettings, 'send'>): DecisionRule {
  return {
    minHumanClicks: config.send.subjectTest.minHumanClicks,
    confidence: config.send.subjectTest.confidence,
  };
}
