import { hostname } from 'node:os';
import { sql } from 'kysely';
import type { Db, WorkerKind } from '../db/database.ts';

/** A worker counts as alive while its last heartbeat is younger than this. */
export const WORKER_ALIVE_MS = 30_000;
/** How often a running worker writes its heartbeat. */
export const HEARTBEAT_EVERY_MS = 5_000;

export interface AliveWorker {
  workerId: string;
  kind: WorkerKind;
  host: string;
  pid: number;
  issueId: number | null;
  startedAt: Date;
  seenAt: Date;
}

/** Records that a worker is alive now (and on which issue). Idempotent. */
export async function beatWorker(
  db: Db,
  worker: { workerId: string; kind: WorkerKind; issueId?: number | null },
): Promise<void> {
  const row = {
    worker_id: worker.workerId,
    kind: worker.kind,
    host: hostname(),
    pid: process.pid,
    issue_id: worker.issueId ?? null,
  };
  await db
    .insertInto('worker_heartbeats')
    .values(row)
    .onConflict((oc) => oc.column('worker_id').doUpdateSet({ issue_id: row.issue_id, seen_at: sql`now()` }))
    .execute();
}

/** Removes a worker that stopped, and heartbeats older than an hour (workers that died without a word). */
export async function forgetWorker(db: Db, workerId: string): Promise<void> {
  await db
    .deleteFrom('worker_heartbeats')
    .where((eb) =>
      eb.or([eb('worker_id', '=', workerId), eb('seen_at', '<', sql<Date>`now() - interval '1 hour'`)]),
    )
    .execute();
}

/** Workers whose last heartbeat is younger than `withinMs` (default WORKER_ALIVE_MS), newest first. */
export async function aliveWorkers(db: Db, withinMs = WORKER_ALIVE_MS): Promise<AliveWorker[]> {
  const rows = await db
    .selectFrom('worker_heartbeats')
    .selectAll()
    .where('seen_at', '>', sql<Date>`now() - make_interval(secs => ${withinMs / 1000})`)
    .orderBy('seen_at', 'desc')
    .execute();
  return rows.map((row) => ({
    workerId: row.worker_id,
    kind: row.kind,
    host: row.host,
    pid: row.pid,
    issueId: row.issue_id,
    startedAt: row.started_at,
    seenAt: row.seen_at,
  }));
}

/**
 * Writes a worker's heartbeat now and every HEARTBEAT_EVERY_MS until `stop()`, which removes it. A
 * failed write (the database away) is skipped: the worker itself waits the outage out.
 */
export function startHeartbeat(
  db: Db,
  worker: { workerId: string; kind: WorkerKind; issueId?: number | null },
  everyMs = HEARTBEAT_EVERY_MS,
): { stop(): Promise<void> } {
  const beat = () => beatWorker(db, worker).catch(() => undefined);
  void beat();
  const timer = setInterval(beat, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await forgetWorker(db, worker.workerId).catch(() => undefined);
    },
  };
}
