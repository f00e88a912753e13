import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/connect.ts';
import { createDatabaseProbe } from '../../src/db/database-probe.ts';
import { tempWorkdir } from '../support/cli.ts';
import { type OwnPostgres, startOwnPostgres } from '../support/own-postgres.ts';
import { type ServeProcess, startServe } from '../support/serve-process.ts';
import { SECRET } from './web-fixtures.ts';

// A cluster of this file's own, stopped while the built `recap serve` answers /healthz.
let cluster: OwnPostgres;
let server: ServeProcess | undefined;

beforeAll(async () => {
  cluster = await startOwnPostgres();
}, 120_000);
afterAll(async () => {
  server?.child.kill('SIGKILL');
  await cluster?.destroy();
});

interface Health {
  status: string;
  database: string;
  tracking: { spoolBytes: number; spooled: number; replayed: number; notKept: number };
}

async function health(url: string): Promise<{ code: number; body: Health }> {
  const response = await fetch(`${url}/healthz`);
  return { code: response.status, body: (await response.json()) as Health };
}

async function until(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(200);
  }
}

describe('GET /healthz checks the database (recap serve, own cluster)', () => {
  it('answers 200 with the database up, 503 "database down" while it is stopped, 200 again once it is back', async () => {
    const dataDir = path.join(tempWorkdir(), 'data');
    server = await startServe({
      RECAP_SECRET: SECRET,
      RECAP_DATA_DIR: dataDir,
      RECAP_OUTBOX_DIR: path.join(dataDir, 'outbox'),
      DATABASE_URL: cluster.url,
    });
    const up = await health(server.url);
    expect(up.code).toBe(200);
    expect(up.body).toMatchObject({ status: 'ok', database: 'up' });
    expect(up.body.tracking).toMatchObject({ spoolBytes: 0, spooled: 0, replayed: 0, notKept: 0, queued: 0 });

    await cluster.stop('fast');
    let down = up;
    await until(async () => {
      down = await health(server?.url as string);
      return down.code !== 200;
    });
    expect(down.code).toBe(503);
    expect(down.body).toMatchObject({ status: 'unavailable', database: 'down' });
    // No secret in the answer: not the URL, the host or the driver's message.
    expect(JSON.stringify(down.body)).not.toMatch(/postgres|127\.0\.0\.1|ECONNREFUSED/);
    // A page that needs the database says "try again later" with 503 and Retry-After, not 500.
    const archive = await fetch(`${server.url}/archive`);
    expect(archive.status).toBe(503);
    expect(archive.headers.get('retry-after')).toBe('30');
    const archivePage = await archive.text();
    expect(archivePage).toContain('Temporarily unavailable');
    expect(archivePage).not.toMatch(/postgres|127\.0\.0\.1|ECONNREFUSED/);
    // The log names the cause in one line, without a stack.
    expect(server.output()).toMatch(/answered 503: the database does not answer \(.*ECONNREFUSED/);
    expect(server.output()).not.toMatch(/request failed/);

    await cluster.start();
    let back = down;
    await until(async () => {
      back = await health(server?.url as string);
      return back.code === 200;
    });
    expect(back.body).toMatchObject({ status: 'ok', database: 'up' });
    expect((await fetch(`${server.url}/archive`)).status).toBe(200);
    expect(server.child.exitCode).toBeNull();
  }, 120_000);
});

describe('the database probe behind /healthz', () => {
  it('sends at most one query however often it is asked within its second', async () => {
    const handle = await connectDatabase({ databaseUrl: cluster.url, dataDir: 'unused', migrate: false });
    let clock = 1_000_000;
    let queries = 0;
    const counting = handle.db.withPlugin({
      transformQuery: (args) => {
        queries += 1;
        return args.node;
      },
      transformResult: async (args) => args.result,
    });
    const counted = createDatabaseProbe(counting, { now: () => clock });
    const answers = await Promise.all(Array.from({ length: 200 }, () => counted.check()));
    expect(answers.every((answer) => answer.up)).toBe(true);
    for (let i = 0; i < 100; i += 1) await counted.check();
    expect(queries).toBe(1);
    clock += 1_001;
    await counted.check();
    expect(queries).toBe(2);
    await handle.close();
  }, 60_000);
});
