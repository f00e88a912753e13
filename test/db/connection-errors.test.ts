import { createServer } from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../src/db/connection-errors.ts';
import type { SendSummary, WorkerDeps } from '../../src/delivery/send-worker.ts';
import { runWorkerThroughOutages } from '../../src/delivery/worker-through-outages.ts';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

async function refusedError(): Promise<unknown> {
  const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${await closedPort()}/x` });
  return client.connect().then(
    () => new Error('connected'),
    (error: unknown) => error,
  );
}

describe('isDatabaseUnavailable', () => {
  it('tells a database that cannot be reached from a query that is wrong', async () => {
    expect(isDatabaseUnavailable(await refusedError())).toBe(true);
    const wrong = Object.assign(new Error('relation "no_such_table" does not exist'), { code: '42P01' });
    expect(isDatabaseUnavailable(wrong)).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error('x'), { code: '57P01' }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('x'), { code: '23505' }))).toBe(false);
  });
});

describe('runWorkerThroughOutages', () => {
  const summary: SendSummary = {
    sent: 1,
    failed: 0,
    bounced: 0,
    skipped: 0,
    retried: 0,
    durationMs: 0,
    perSecond: 0,
    weeks: [],
  };

  it('runs a following worker again after the database went away, and stops on any other error', async () => {
    const refused = await refusedError();
    let runs = 0;
    const lines: string[] = [];
    const deps = { follow: true } as WorkerDeps;
    const result = await runWorkerThroughOutages(
      deps,
      (line) => lines.push(line),
      async () => {
        runs += 1;
        if (runs === 1) throw refused;
        return summary;
      },
    );
    expect(result).toBe(summary);
    expect(runs).toBe(2);
    expect(lines[0]).toMatch(/database unavailable .*ECONNREFUSED/);

    await expect(
      runWorkerThroughOutages(
        deps,
        () => {},
        async () => {
          throw new Error('relation "x" does not exist');
        },
      ),
    ).rejects.toThrow(/does not exist/);
    await expect(
      runWorkerThroughOutages(
        { follow: false } as WorkerDeps,
        () => {},
        async () => {
          throw refused;
        },
      ),
    ).rejects.toBe(refused);
  });
});
