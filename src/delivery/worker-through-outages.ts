import { setTimeout as sleepFor } from 'node:timers/promises';
import { isDatabaseUnavailable } from '../db/connection-errors.ts';
import { runWorker, type SendSummary, type WorkerDeps } from './send-worker.ts';

/**
 * `recap worker --follow`: runs the worker, and when the database goes away (refused, connection lost,
 * server restarting) waits with a capped back-off (1 s doubling to 30 s, with jitter) and runs it
 * again, instead of exiting. The batch claimed when the connection was lost is leased: this worker or
 * another takes it up again once its lease runs out. Any other error, or a worker not following, throws.
 */
export async function runWorkerThroughOutages(
  deps: WorkerDeps,
  log: (line: string) => void,
  run: (deps: WorkerDeps) => Promise<SendSummary> = runWorker,
): Promise<SendSummary> {
  let waitMs = 0;
  for (;;) {
    try {
      return await run(deps);
    } catch (error) {
      if (!deps.follow || !isDatabaseUnavailable(error) || deps.signal?.aborted) throw error;
      waitMs = Math.min(Math.max(waitMs * 2, 1_000), 30_000);
      log(
        `worker: database unavailable (${error instanceof Error ? error.message : String(error)}); trying again in ${Math.round(waitMs / 1000)} s`,
      );
      await sleepFor(waitMs * (0.5 + Math.random() / 2), undefined, { signal: deps.signal }).catch(() => {});
      if (deps.signal?.aborted) throw error;
    }
  }
}
