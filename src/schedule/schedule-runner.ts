import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import cron from 'node-cron';
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

export type RunnerOptions = Omit<ScheduleCycleOptions, 'searchSince'>;

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
  const trigger = (why: string) => {
    if (busy || stopped) return;
    busy = true;
    current = runScheduleCycle(options)
      .then((result) => {
        report(result, why, options.log);
        // Another process's run still beats: look again when its lease would have run out, so a run killed
        // just now is resumed within seconds rather than at the next five-minute check.
        if (result.retryInMs !== undefined && !stopped) {
          clearTimeout(recheck);
          recheck = setTimeout(() => trigger('lease check'), result.retryInMs);
          recheck.unref();
        }
      })
      .catch((error) =>
        options.log(`cycle failed (${why}): ${error instanceof Error ? error.message : String(error)}`),
      )
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

function report(result: CycleResult, why: string, log: (line: string) => void): void {
  // Checks that find nothing new stay quiet; the cycle itself logs every decision it takes.
  if (why === 'start-up' && (result.outcome === 'not-ours' || result.outcome === 'no-slot'))
    log(result.detail);
}
