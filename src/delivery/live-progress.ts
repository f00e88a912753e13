import type { Db, IssueStatus } from '../db/database.ts';
import {
  type DeliveryCounts,
  deliveryCounts,
  type RolloutHour,
  rolloutByHour,
  sentWithin,
} from './delivery.repository.ts';
import { type AliveWorker, aliveWorkers } from './worker-heartbeat.repository.ts';

/** The rate is measured over this window. */
const RATE_WINDOW_SECONDS = 60;

/** A send as the editor's progress shows it (and its JSON endpoint returns). */
export interface LiveProgress {
  week: string;
  status: IssueStatus;
  reason: string | null;
  total: number;
  sent: number;
  failed: number;
  bounced: number;
  skipped: number;
  cancelled: number;
  /** Queued and due now; `waiting` wait for their local time. */
  due: number;
  waiting: number;
  /** Messages per second over the last minute. */
  perSecond: number;
  /** Seconds until the due messages are out at that rate; null when nothing moves or nothing is due. */
  etaSeconds: number | null;
  rollout: RolloutHour[];
  workers: AliveWorker[];
}

/** The live figures of an issue's send: counts, rate, ETA, rollout by hour and the workers alive. */
export async function liveProgress(
  db: Db,
  issue: { id: number; week: string; status: IssueStatus; statusReason: string | null },
): Promise<LiveProgress> {
  const [counts, recent, rollout, workers] = await Promise.all([
    deliveryCounts(db, issue.id),
    sentWithin(db, issue.id, RATE_WINDOW_SECONDS),
    rolloutByHour(db, issue.id),
    aliveWorkers(db),
  ]);
  const perSecond = recent / RATE_WINDOW_SECONDS;
  return {
    week: issue.week,
    status: issue.status,
    reason: issue.statusReason,
    total: totalOf(counts),
    sent: counts.sent,
    failed: counts.failed,
    bounced: counts.bounced,
    skipped: counts.skipped,
    cancelled: counts.cancelled,
    due: counts.due,
    waiting: counts.waiting,
    perSecond: Math.round(perSecond * 100) / 100,
    etaSeconds: perSecond > 0 && counts.due > 0 ? Math.ceil(counts.due / perSecond) : null,
    rollout: rollout.filter((hour) => hour.hour !== null),
    workers,
  };
}

function totalOf(counts: DeliveryCounts): number {
  return counts.queued + counts.sent + counts.failed + counts.bounced + counts.skipped + counts.cancelled;
}
