import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import cron from 'node-cron';
import { describeDatabaseError, isDatabaseUnavailable } from '../db/connection-errors.ts';
import { type CycleResult, runScheduleCycle, type ScheduleCycleOptions } from './schedule-cycle.ts';

export const SCHEDULE_NAME = 'weekly-recap';
export const LOOKBACK_MS = 8 * 24 * 3_600_000;
/**
 * A run whose heartbeat (every third of this) is older than this is taken over: a killed scheduler's send is
 * resumed by another (or a restarted) process within about this long, plus the send workers' own lease.
 */
export const LEASE_MS = 20_000;
/** How often a running schedule looks again (approval given, a crashed run to resume, a fire missed while busy). */
export const CHECK_CRON = '*/5 * * * *';

export function scheduleOwner(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

export type RunnerOptions = Omit<ScheduleCycleOptions, 'searchSince'> & {
  /** Told every cycle's result (the metrics' last fire and outcome). */
  onCycle?: (result: CycleResult) => void;
};

export interface RunningSchedule {
  /** Resolves when no cycle is running any more. */
  stop(): Promise<void>;
  /** The cycle currently running or last run, for tests and shutdown. */
  idle(): Promise<void>;
}

/**
 * Keeps the schedule running: a cycle at start-up (catching up a missed fire), at every fire of the
 * cron expression, and at every check. The cron library only triggers; every decision is the cycle's, and
 * cycles never overlap within one process.
 */
export function startSchedule(options: RunnerOptions): RunningSchedule {
  let current: Promise<unknown> = Promise.resolve();
  let busy = false;
  let stopped = false;
  let recheck: NodeJS.Timeout | undefined;
  let outageRetries = 0;
  const retryLater = (why: string, ms: number) => {
    clearTimeout(recheck);
    recheck = setTimeout(() => trigger(why), ms);
    recheck.unref();
  };
  const trigger = (why: string) => {
    if (busy || stopped) return;
    busy = true;
    current = runScheduleCycle(options)
      .then((result) => {
        outageRetries = 0;
        report(result, why, options.log);
        options.onCycle?.(result);
        // Another process's run still beats: look again when its lease would have run out, so a run killed
        // just now is resumed within seconds rather than at the next five-minute check.
        if (result.retryInMs !== undefined && !stopped) retryLater('lease check', result.retryInMs);
      })
      .catch((error) => {
        const message = error instanceof Error ? error.message : String(error);
        if (!isDatabaseUnavailable(error) || stopped) {
          options.log(`cycle failed (${why}): ${message}`);
          return;
        }
        // The database is away: look again soon, backing off, so a fire it failed is carried within
        // about DB_RETRY_CAP_MS of its return rather than at the next five-minute check.
        const ms = outageRetryMs(outageRetries++);
        options.log(
          `cycle failed (${why}): the database does not answer (${describeDatabaseError(error)}); trying again in ${Math.ceil(ms / 1000)} s`,
        );
        retryLater('retry after a database outage', ms);
      })
      .finally(() => {
        busy = false;
      });
  };
  const fire = cron.schedule(options.pattern.expression, () => trigger('cron fire'), {
    timezone: options.pattern.timeZone,
    name: 'recap-fire',
  });
  const check = cron.schedule(CHECK_CRON, () => trigger('check'), { timezone: 'UTC', name: 'recap-check' });
  options.log(
    `schedule "${options.pattern.expression}" in ${options.pattern.timeZone}, approval ${options.requireApproval ? 'required' : 'not required'}; owner ${options.owner}; next fire ${fire.getNextRun()?.toISOString() ?? 'never'}`,
  );
  trigger('start-up');
  return {
    async stop() {
      stopped = true;
      clearTimeout(recheck);
      await fire.destroy();
      await check.destroy();
      await current;
    },
    idle: () => current.then(() => undefined),
  };
}

/** First and longest wait between cycles while the database does not answer; jittered. */
const DB_RETRY_FIRST_MS = 1000;
export const DB_RETRY_CAP_MS = 30_000;

function outageRetryMs(attempt: number, random = Math.random()): number {
  const backoff = Math.min(DB_RETRY_CAP_MS, DB_RETRY_FIRST_MS * 2 ** Math.min(attempt, 10));
  return Math.round(backoff / 2 + (backoff / 2) * random);
}

function report(result: CycleResult, why: string, log: (line: string) => void): void {
  // Checks that find nothing new stay quiet; the cycle itself logs every decision it takes.
  if (why === 'start-up' && (result.outcome === 'not-ours' || result.outcome === 'no-slot'))
    log(result.detail);
}
