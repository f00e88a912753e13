import { alertIfUnapprovedBeforeFire } from '../alerts/approval-alert.ts';
import { alertIfSendingEmptySegments } from '../alerts/empty-segments-alert.ts';
import type { AlertContext } from '../alerts/raise-alert.ts';
import { isDatabaseUnavailable } from '../db/connection-errors.ts';
import type { Db, IssueStatus } from '../db/database.ts';
import { findIssueState } from '../issues/issue.repository.ts';
import { claimSlot, heartbeat, loadFire, recordOutcome, takeOverSlot } from './run-coordinator.ts';
import {
  canTakeOver,
  decideIssueAction,
  decideSlot,
  type FireOutcome,
  formatDuration,
} from './schedule-decision.ts';
import { type CronPattern, latestSlot } from './schedule-slot.ts';
import { slotWeek } from './schedule-week.ts';

/** The work a cycle triggers; the real ones build with selection and send with the delivery workers. */
export interface ScheduleActions {
  /** Builds the week's issue; returns a one-line summary. */
  buildIssue(week: string): Promise<string>;
  /** Sends the week's issue to its audience and returns a one-line summary; resumable. */
  sendIssue(week: string): Promise<string>;
  /**
   * Pulls the story feeds (RECAP_STORIES_URL) once, right before a week is built; returns a one-line
   * summary. A failure is reported and never stops the build or the send of the stories already in.
   */
  pullStories?(): Promise<string>;
  /**
   * Decides every subject test whose time has come (once across processes); returns a line per decision.
   * Runs at each check, whatever the slot: a test's rest goes out even when no worker is running.
   */
  decideSubjectTests?(): Promise<string[]>;
}

export interface ScheduleCycleOptions {
  db: Db;
  scheduleName: string;
  pattern: CronPattern;
  /** Identifies this process in fire rows: host, pid and a random part. */
  owner: string;
  now: () => Date;
  requireApproval: boolean;
  actions: ScheduleActions;
  log: (line: string) => void;
  /** How late a missed slot may still be caught up. */
  catchUpWindowMs: number;
  /** How far back to look for the latest slot at all. */
  lookbackMs: number;
  /** A running claim whose heartbeat is older than this is taken over. */
  leaseMs: number;
  force?: boolean;
  /** Local-time delivery picks the week by the rollout day (src/delivery/local-time.ts). */
  delivery?: 'now' | 'local';
  /** Start searching for slots after this instant (the previous search); defaults to now minus lookback. */
  searchSince?: Date;
  /** Operator alerts (an issue still unapproved an hour before its fire); none when absent. */
  alerts?: AlertContext;
}

export interface CycleResult {
  slot: Date | null;
  week: string | null;
  /** 'no-slot' | 'not-ours' | a fire outcome. */
  outcome: FireOutcome | 'no-slot' | 'not-ours';
  detail: string;
  /** For 'not-ours' while another process's run still beats: when its lease would run out if it died now. */
  retryInMs?: number;
}

/**
 * One check of the schedule: find the latest slot, claim it (or take up one waiting for approval), and
 * carry it as far as the issue's state allows: build, wait for approval, or send. Idempotent: any number of
 * processes may run it at any time; a slot is carried by one of them at a time and sent once. Throws
 * when the database does not answer: the fire is then left running (its heartbeat stops), so the
 * runner's retry after the outage takes it up again, rather than recording a failure only --force retries.
 */
export async function runScheduleCycle(options: ScheduleCycleOptions): Promise<CycleResult> {
  const { db, scheduleName, owner, log } = options;
  const now = options.now();
  if (options.actions.decideSubjectTests)
    for (const line of await options.actions.decideSubjectTests()) log(line);
  if (options.alerts) await alertIfUnapprovedBeforeFire(options.alerts, { ...options, now });
  const since = options.searchSince ?? new Date(now.getTime() - options.lookbackMs);
  const slot = latestSlot(options.pattern, now, since);
  if (!slot) {
    return {
      slot: null,
      week: null,
      outcome: 'no-slot',
      detail: `no slot of "${options.pattern.expression}" in the last ${formatDuration(now.getTime() - since.getTime())}`,
    };
  }
  const week = slotWeek(slot, options.pattern.timeZone, options.delivery);
  const at = `slot ${slot.toISOString()} (issue ${week})`;
  const ref = { scheduleName, slot, owner, now };

  const existing = await loadFire(db, scheduleName, slot);
  if (!existing) {
    const decision = decideSlot({
      slot,
      now,
      catchUpWindowMs: options.catchUpWindowMs,
      force: options.force ?? false,
    });
    const outcome: FireOutcome = decision.kind === 'due' ? 'running' : 'skipped-stale';
    const won = await claimSlot(db, { ...ref, week, outcome, detail: decision.reason });
    if (!won) return notOurs(db, scheduleName, slot, week, at);
    if (decision.kind === 'stale') {
      log(`${at}: ${decision.reason}`);
      return { slot, week, outcome: 'skipped-stale', detail: decision.reason };
    }
    log(`${at}: claimed by ${owner}, ${decision.reason}`);
  } else {
    if (!canTakeOver(existing, { now, leaseMs: options.leaseMs, force: options.force ?? false, owner })) {
      const result = await notOurs(db, scheduleName, slot, week, at);
      if (existing.outcome === 'running')
        result.retryInMs = Math.max(
          1000,
          existing.updatedAt.getTime() + options.leaseMs - now.getTime() + 1000,
        );
      return result;
    }
    const why =
      existing.outcome === 'running'
        ? `the run of ${existing.owner} stopped answering (last heartbeat ${existing.updatedAt.toISOString()}): taking it over`
        : existing.outcome === 'waiting-approval'
          ? 'checking again whether the issue was approved'
          : `--force: running again after "${existing.outcome}"`;
    const won = await takeOverSlot(db, { ...ref, detail: why }, existing);
    if (!won) return notOurs(db, scheduleName, slot, week, at);
    if (existing.outcome !== 'waiting-approval') log(`${at}: ${why}`);
  }

  const beat = setInterval(
    () => {
      heartbeat(db, ref, options.now()).catch((error) => log(`${at}: heartbeat failed: ${String(error)}`));
    },
    Math.max(1000, Math.floor(options.leaseMs / 3)),
  );
  beat.unref();
  try {
    const { outcome, detail } = await carryIssue(options, week, at, existing?.outcome === 'waiting-approval');
    await recordOutcome(db, { ...ref, now: options.now() }, outcome, detail);
    return { slot, week, outcome, detail };
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw error;
    const detail = `failed: ${error instanceof Error ? error.message : String(error)} (run \`recap schedule --once --force\` to retry)`;
    log(`${at}: ${detail}`);
    await recordOutcome(db, { ...ref, now: options.now() }, 'failed', detail);
    return { slot, week, outcome: 'failed', detail };
  } finally {
    clearInterval(beat);
  }
}

async function carryIssue(
  options: ScheduleCycleOptions,
  week: string,
  at: string,
  wasWaiting: boolean,
): Promise<{ outcome: FireOutcome; detail: string }> {
  const { db, log } = options;
  let status = await issueStatus(db, week);
  let action = decideIssueAction({ status, requireApproval: options.requireApproval });
  if (action.kind === 'build') {
    if (options.actions.pullStories) {
      try {
        log(`${at}: pulled the story feeds before building: ${await options.actions.pullStories()}`);
      } catch (error) {
        log(
          `${at}: pulling the story feeds failed, building with the stories already in: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    const summary = await options.actions.buildIssue(week);
    log(`${at}: the issue was not built yet: built it (${summary})`);
    status = await issueStatus(db, week);
    if (status === null) throw new Error(`building ${week} left no issue behind`);
    action = decideIssueAction({ status, requireApproval: options.requireApproval });
  }
  switch (action.kind) {
    case 'build':
      throw new Error('unreachable: issue still unbuilt');
    case 'wait-approval':
      // Said once when the wait starts; the checks that follow stay quiet until something changes.
      if (!wasWaiting) log(`${at}: ${action.reason}; checking again at every check`);
      return { outcome: 'waiting-approval', detail: action.reason };
    case 'done':
      log(`${at}: ${action.reason}`);
      return { outcome: action.outcome, detail: action.reason };
    case 'send': {
      log(`${at}: sending: ${action.reason}`);
      if (status === 'draft' && options.alerts) await alertIfSendingEmptySegments(options.alerts, week);
      const summary = await options.actions.sendIssue(week);
      log(`${at}: sent: ${summary}`);
      return { outcome: 'sent', detail: `${action.reason}; ${summary}` };
    }
  }
}

async function notOurs(
  db: Db,
  scheduleName: string,
  slot: Date,
  week: string,
  at: string,
): Promise<CycleResult> {
  const fire = await loadFire(db, scheduleName, slot);
  const detail = fire
    ? `${at}: handled by ${fire.owner}: ${fire.outcome ?? 'unknown'}${fire.detail ? ` (${fire.detail})` : ''}`
    : `${at}: claimed by another process`;
  return { slot, week, outcome: 'not-ours', detail };
}

async function issueStatus(db: Db, week: string): Promise<IssueStatus | null> {
  const row = await findIssueState(db, week);
  return row && row.builtAt !== null ? row.status : null;
}
