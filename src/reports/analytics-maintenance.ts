import type { Db } from '../db/database.ts';
import { compactDeliveryRollups } from '../delivery/delivery-rollups.ts';
import { dropExpiredEventPartitions, ensureEventPartitions } from '../tracking/event-partitions.ts';

export interface AnalyticsMaintenanceOptions {
  retentionDays: number;
  now?: () => Date;
  log?: (line: string) => void;
  /** Default: every 6 hours. */
  intervalMs?: number;
}

/**
 * One round of upkeep for the analytics tables: monthly event partitions created ahead, expired ones
 * dropped (TRACKING_RETENTION_DAYS), per-session delivery counters folded. Idempotent.
 */
export async function maintainAnalytics(
  db: Db,
  now: Date,
  retentionDays: number,
): Promise<{ created: string[]; dropped: string[]; purged: number; folded: number }> {
  const created = await ensureEventPartitions(db, now);
  const { dropped, purged } = await dropExpiredEventPartitions(db, now, retentionDays);
  const folded = await compactDeliveryRollups(db);
  return { created, dropped, purged, folded };
}

/**
 * Runs maintainAnalytics now and then every interval until stopped (the timer never keeps the process
 * alive). A failed round is logged and retried at the next one: tracking keeps working meanwhile,
 * since the default partition takes any event.
 */
export function startAnalyticsMaintenance(
  db: Db,
  options: AnalyticsMaintenanceOptions,
): { first: Promise<void>; stop(): Promise<void> } {
  const log = options.log ?? (() => {});
  let current: Promise<void> = Promise.resolve();
  const round = () => {
    current = current.then(async () => {
      try {
        const result = await maintainAnalytics(
          db,
          (options.now ?? (() => new Date()))(),
          options.retentionDays,
        );
        if (result.created.length > 0 || result.dropped.length > 0 || result.purged > 0)
          log(
            `tracking events: partitions created ${result.created.join(', ') || 'none'}, dropped ${result.dropped.join(', ') || 'none'}, ${result.purged} old rows purged`,
          );
      } catch (error) {
        log(`analytics maintenance failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
    return current;
  };
  const first = round();
  const timer = setInterval(round, options.intervalMs ?? 6 * 3_600_000);
  timer.unref();
  return {
    first,
    async stop() {
      clearInterval(timer);
      await current;
    },
  };
}
