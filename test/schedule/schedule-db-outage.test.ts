import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.ts';
import { loadFire } from '../../src/schedule/run-coordinator.ts';
import { LEASE_MS, startSchedule } from '../../src/schedule/schedule-runner.ts';
import { cronPattern } from '../../src/schedule/schedule-slot.ts';
import { createOwnDatabase, type OwnPostgres, startOwnPostgres } from '../support/own-postgres.ts';

const hour = 3_600_000;

/**
 * A running schedule whose fire fails because PostgreSQL went away (a cluster of this file's own, stopped
 * with -m immediate in the middle of the build): once the database is back, the fire is carried within
 * a minute, by itself, rather than at the next five-minute check.
 */
describe('the schedule across a database outage', () => {
  let cluster: OwnPostgres;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    cluster = await startOwnPostgres();
    const url = await createOwnDatabase(cluster, `recap_${randomBytes(4).toString('hex')}`);
    handle = await connectDatabase({ databaseUrl: url, dataDir: 'unused', poolSize: 3 });
  }, 60_000);
  afterAll(async () => {
    await handle?.close().catch(() => {});
    await cluster?.destroy();
  });

  it('retries a fire that failed for lack of a database within a minute of its return', async () => {
    const { db } = handle;
    const startedAt = Date.now();
    // Monday 30 November 2026, half a minute after the 08:00 fire, moving with the real clock.
    const now = () => new Date(Date.parse('2026-11-30T08:00:30Z') + (Date.now() - startedAt));
    const lines: string[] = [];
    const runs = { builds: 0, sent: [] as string[] };
    const schedule = startSchedule({
      db,
      scheduleName: 'outage',
      pattern: cronPattern('0 8 * * 1', 'UTC'),
      owner: 'test-owner',
      now,
      requireApproval: false,
      log: (line) => lines.push(line),
      catchUpWindowMs: 12 * hour,
      lookbackMs: 8 * 24 * hour,
      leaseMs: LEASE_MS,
      actions: {
        async buildIssue(week) {
          // The first build loses its database half-way.
          if (runs.builds++ === 0) await cluster.stop('immediate');
          await db
            .insertInto('issues')
            .values({ week, status: 'draft', built_at: new Date() })
            .onConflict((oc) => oc.column('week').doNothing())
            .execute();
          return 'built';
        },
        async sendIssue(week) {
          runs.sent.push(week);
          await db.updateTable('issues').set({ status: 'sent' }).where('week', '=', week).execute();
          return '3 sent';
        },
      },
    });
    try {
      while (!lines.some((line) => line.startsWith('cycle failed'))) {
        if (Date.now() - startedAt > 60_000)
          throw new Error(`the failed cycle was not reported: ${lines.join(' | ')}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      await cluster.start();
      const back = Date.now();
      const slot = new Date('2026-11-30T08:00:00Z');
      let outcome: string | null | undefined;
      // Within a minute of the database's return (the five-minute check may be up to five minutes away).
      while (Date.now() - back < 60_000) {
        outcome = await loadFire(db, 'outage', slot)
          .then((fire) => fire?.outcome)
          .catch(() => undefined);
        if (outcome === 'sent') break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(outcome, lines.join('\n')).toBe('sent');
      expect(runs.sent).toEqual(['2026-W48']);
      expect(runs.builds).toBe(2);
    } finally {
      await schedule.stop();
    }
  }, 150_000);
});
