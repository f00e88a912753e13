import { copyFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.ts';
import { signClickTokens, signToken } from '../../src/tracking/token.ts';
import { tempWorkdir } from '../support/cli.ts';
import { type OwnPostgres, startOwnPostgres } from '../support/own-postgres.ts';
import { type ServeProcess, sendTrackingLoad, startServe } from '../support/serve-process.ts';
import { SECRET, type Seeded, seedIssue } from '../web/web-fixtures.ts';

// `recap serve` killed while its database is down: the events it answered wait in its spool file, and
// the next start (database back) writes them, once, even when the same file is offered twice.
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

async function stored(userAgent: string): Promise<{ events: number; ids: number }> {
  const { rows } = await sql<{ events: string; ids: string }>`
    SELECT count(*) AS events, count(DISTINCT event_id) AS ids FROM tracking_events WHERE user_agent = ${userAgent}
  `.execute(handle.db);
  return { events: Number(rows[0]?.events), ids: Number(rows[0]?.ids) };
}

async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check().catch(() => false)) && Date.now() < deadline) await sleep(250);
}

const spoolFiles = (dir: string) => {
  try {
    return readdirSync(dir).filter((name) => name.endsWith('.ndjson'));
  } catch {
    return [];
  }
};

describe('tracking spool across restarts of recap serve', () => {
  it('writes what a server killed during an outage spooled when the next one starts, and never twice', async () => {
    const dataDir = path.join(tempWorkdir(), 'data');
    const spoolDir = path.join(dataDir, 'tracking-spool');
    const secrets = { current: SECRET, previous: [] };
    const pixel = signToken(secrets, { kind: 'open', subscriberId: seed.bob, issueId: seed.issueId });
    const click = signClickTokens(secrets, seed.bob, seed.issueId, [1])[0] as string;

    const first = await serve(dataDir);
    expect((await fetch(`${first.url}/c/${click}`, { redirect: 'manual' })).status).toBe(302);
    await cluster.stop('immediate');
    const load = await sendTrackingLoad({
      url: first.url,
      pixel,
      click,
      perSecond: 100,
      durationMs: 3_000,
      userAgent: 'spool-restart',
    });
    expect(load.failed).toEqual([]);
    expect(load.answered).toBe(load.sent);
    // Answered before being written: give the last batch its 50 ms and its retries to reach the spool
    // (the click that loaded the links may be spooled too, if the stop came within its 50 ms).
    // The count alone is not enough: when that first click is spooled too, it reaches the load's
    // number one event early. So also wait until nothing is queued and the count holds for 500 ms.
    const tracking = async () =>
      (
        (await (await fetch(`${first.url}/healthz`)).json()) as {
          tracking: { spooled: number; queued: number };
        }
      ).tracking;
    let last = -1;
    await until(async () => {
      const now = await tracking();
      const settled = now.spooled >= load.answered && now.queued === 0 && now.spooled === last;
      last = now.spooled;
      if (!settled) await sleep(500);
      return settled;
    });
    first.child.kill('SIGKILL');
    await first.exited;
    const left = spoolFiles(spoolDir);
    expect(left.length).toBeGreaterThan(0);
    expect(left.reduce((bytes, name) => bytes + statSync(path.join(spoolDir, name)).size, 0)).toBeGreaterThan(
      0,
    );
    // A copy of the dead server's files, as if a second dead server had spooled the same events.
    for (const [index, name] of left.entries())
      copyFileSync(
        path.join(spoolDir, name),
        path.join(spoolDir, `${name.split('-')[0]}-999999-1.${index}.ndjson`),
      );

    await cluster.start();
    const second = await serve(dataDir);
    await until(async () => spoolFiles(spoolDir).length === 0);
    expect(spoolFiles(spoolDir)).toEqual([]);
    expect(await stored('spool-restart')).toEqual({ events: load.answered, ids: load.answered });
    expect(second.output()).toMatch(/taken over from stopped servers/);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 120_000);

  it('keeps answering readers when the spool is full, and says so in its log and /healthz', async () => {
    const dataDir = path.join(tempWorkdir(), 'data');
    const secrets = { current: SECRET, previous: [] };
    const pixel = signToken(secrets, { kind: 'open', subscriberId: seed.alice, issueId: seed.issueId });
    const click = signClickTokens(secrets, seed.alice, seed.issueId, [3])[0] as string;
    const server = await serve(dataDir, { TRACKING_SPOOL_MAX_BYTES: '4000' });
    expect((await fetch(`${server.url}/c/${click}`, { redirect: 'manual' })).status).toBe(302);
    await cluster.stop('immediate');
    try {
      const load = await sendTrackingLoad({
        url: server.url,
        pixel,
        click,
        perSecond: 100,
        durationMs: 2_000,
        userAgent: 'spool-full',
      });
      expect(load.failed).toEqual([]);
      expect(load.answered).toBe(load.sent);
      let health = { tracking: { spooled: 0, notKept: 0, spoolBytes: 0 } };
      await until(async () => {
        health = (await (await fetch(`${server.url}/healthz`)).json()) as typeof health;
        return health.tracking.spooled + health.tracking.notKept >= load.answered;
      });
      expect(health.tracking.notKept).toBeGreaterThan(0);
      expect(health.tracking.spoolBytes).toBeLessThanOrEqual(4000);
      expect(server.output()).toMatch(/tracking spool full \(TRACKING_SPOOL_MAX_BYTES\)/);
      expect(server.child.exitCode).toBeNull();
    } finally {
      await cluster.start();
    }
    server.child.kill('SIGTERM');

    expect(await server.exited).toBe(0);
  }, 90_000);
});
