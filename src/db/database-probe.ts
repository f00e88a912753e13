import { sql } from 'kysely';
import type { Db } from './database.ts';

/** Whether the database answered a trivial query lately. Says nothing about what failed: a health answer is public. */
export interface DatabaseHealth {
  up: boolean;
  /** When this answer was known (the query's answer, or its timeout). */
  checkedAt: Date;
}

export interface DatabaseProbe {
  /** The latest answer when younger than the cache, else a new `select 1` (at most one at a time). Never throws. */
  check(): Promise<DatabaseHealth>;
}

export interface DatabaseProbeOptions {
  /** A database that takes longer counts as down for this check (default 2 s). */
  timeoutMs?: number;
  /** How long one answer serves every caller (default 1 s): a flood of health checks costs one query a second. */
  cacheMs?: number;
  now?: () => number;
}

/**
 * A cheap, bounded health check of the database: `select 1` with a timeout, its answer shared by every
 * caller for `cacheMs`. A query still running past its timeout is not doubled by the next check: that
 * check reports down until the first one returns.
 */
export function createDatabaseProbe(db: Db, options: DatabaseProbeOptions = {}): DatabaseProbe {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const cacheMs = options.cacheMs ?? 1_000;
  const now = options.now ?? Date.now;
  let latest: DatabaseHealth | undefined;
  let checking: Promise<DatabaseHealth> | undefined;
  let queryRunning = false;

  const runCheck = async (): Promise<DatabaseHealth> => {
    if (queryRunning) return { up: false, checkedAt: new Date(now()) };
    queryRunning = true;
    const query = sql`select 1`.execute(db).then(
      () => true,
      () => false,
    );
    void query.finally(() => {
      queryRunning = false;
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
    });
    const up = await Promise.race([query, timedOut]);
    clearTimeout(timer);
    return { up, checkedAt: new Date(now()) };
  };

  return {
    check() {
      if (latest && now() - latest.checkedAt.getTime() < cacheMs) return Promise.resolve(latest);
      checking ??= runCheck().then((health) => {
        latest = health;
        checking = undefined;
        return health;
      });
      return checking;
    },
  };
}
