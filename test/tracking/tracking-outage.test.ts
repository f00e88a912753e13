import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.ts';
import { signClickTokens, signToken } from '../../src/tracking/token.ts';
import { tempWorkdir } from '../support/cli.ts';
import { type OwnPostgres, startOwnPostgres } from '../support/own-postgres.ts';
import {
  type LoadResult,
  type ServeProcess,
  sendTrackingLoad,
  startServe,
} from '../support/serve-process.ts';
import { SECRET, type Seeded, seedIssue } from '../web/web-fixtures.ts';

// A cluster of this file's own, stopped and restarted under load while the built `recap serve` answers
// pixels and clicks: every answered event must be stored once the database is back, and the process
// must live through connections lost in use.
let cluster: OwnPostgres;
let handle: DatabaseHandle;
let seed: Seeded;
const servers: ServeProcess[] = [];

beforeAll(async () => {
  cluster = await startOwnPostgres();
  handle = await connectDatabase({ databaseUrl: cluster.url, dataDir: 'unused' });
  seed = await seedIssue(handle.db);
}, 120_000);
afterAll(async () => {
  for (const server of servers) server.child.kill('SIGKILL');
  await handle?.close();
  await cluster?.destroy();
});

const secrets = { current: SECRET, previous: [] };
const tokens = () => ({
  pixel: signToken(secrets, { kind: 'open', subscriberId: seed.alice, issueId: seed.issueId }),
  click: signClickTokens(secrets, seed.alice, seed.issueId, [2])[0] as string,
});

async function serve(dataDir: string, env: Record<string, string> = {}): Promise<ServeProcess> {
  const server = await startServe({
    RECAP_SECRET: SECRET,
    RECAP_DATA_DIR: dataDir,
    RECAP_OUTBOX_DIR: path.join(dataDir, 'outbox'),
    DATABASE_URL: cluster.url,
    ...env,
  });
  servers.push(server);
  return server;
}

async function storedWith(userAgent: string): Promise<{ events: number; ids: number }> {
  const { rows } = await sql<{ events: string; ids: string }>`
    SELECT count(*) AS events, count(DISTINCT event_id) AS ids FROM tracking_events WHERE user_agent = ${userAgent}
  `.execute(handle.db);
  return { events: Number(rows[0]?.events), ids: Number(rows[0]?.ids) };
}

/** Waits (polling) until `count` stored events carry the user agent, or gives up after a minute. */
async function waitForStored(userAgent: string, count: number): Promise<{ events: number; ids: number }> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const stored = await storedWith(userAgent).catch(() => ({ events: -1, ids: -1 }));
    if (stored.events >= count || Date.now() > deadline) return stored;
    await sleep(250);
  }
}

/** Load at 100 requests/s for 14 s; the cluster is stopped 2 s in and started again 10 s later. */
async function loadThroughOutage(
  server: ServeProcess,
  userAgent: string,
  mode: 'fast' | 'immediate',
): Promise<LoadResult> {
  const { pixel, click } = tokens();
  // The click's links are loaded once before the outage (a cold issue needs the database to redirect).
  expect((await fetch(`${server.url}/c/${click}`, { redirect: 'manual' })).status).toBe(302);
  const load = sendTrackingLoad({
    url: server.url,
    pixel,
    click,
    perSecond: 100,
    durationMs: 14_000,
    userAgent,
  });
  await sleep(2_000);
  await cluster.stop(mode);
  await sleep(10_000);
  await cluster.start();
  return load;
}

describe('tracking through a database outage (recap serve, own cluster)', () => {
  it('answers every pixel and click and stores every answered event once (answers not waiting for the write; pg_ctl stop -m immediate)', async () => {
    const server = await serve(path.join(tempWorkdir(), 'data'));
    const result = await loadThroughOutage(server, 'outage-default', 'immediate');

    expect(result.failed).toEqual([]);
    expect(result.refused).toBe(0);
    expect(result.answered).toBe(result.sent);
    expect(result.sent).toBeGreaterThan(1_000);
    const stored = await waitForStored('outage-default', result.answered);
    expect(stored).toEqual({ events: result.answered, ids: result.answered });
    expect(server.child.exitCode).toBeNull();
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as {
      tracking: { notKept: number; spooled: number };
    };
    expect(health.tracking.notKept).toBe(0);
    expect(health.tracking.spooled).toBeGreaterThan(0);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  }, 120_000);

  it('with TRACKING_ACK_AFTER_WRITE=true answers success only for events stored or spooled, and stores each of them (pg_ctl stop -m fast)', async () => {
    const server = await serve(path.join(tempWorkdir(), 'data'), { TRACKING_ACK_AFTER_WRITE: 'true' });
    const result = await loadThroughOutage(server, 'outage-ack', 'fast');

    expect(result.failed).toEqual([]);
    expect(result.answered + result.refused).toBe(result.sent);
    expect(result.answered).toBeGreaterThan(1_000);
    const stored = await waitForStored('outage-ack', result.answered);
    // Every success is stored; a 503 may have been stored too (its batch's commit lost with the answer).
    expect(stored.ids).toBe(stored.events);
    expect(stored.events).toBeGreaterThanOrEqual(result.answered);
    expect(stored.events).toBeLessThanOrEqual(result.sent);
    expect(server.child.exitCode).toBeNull();
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  }, 120_000);
});
