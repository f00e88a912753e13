import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempWorkdir } from '../support/cli.ts';
import { testDatabaseUrl } from '../support/database.ts';

/** A port held by another process's listener, as a second `recap serve` on one machine finds it. */
let taken: Server;
let takenPort: number;

beforeAll(async () => {
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  takenPort = (taken.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((resolve) => taken.close(resolve));
});

/** Longest a run may take before it is killed: a process that exits by itself ends well before. */
const KILL_AFTER_MS = 90_000;

async function serve(extra: Record<string, string>) {
  const dir = tempWorkdir('recap-serve-start-');
  const started = Date.now();
  const result = await runCli(
    ['serve', '--port', '0'],
    {
      RECAP_SECRET: 'test-secret-test-secret-test-secret-0123',
      RECAP_DATA_DIR: path.join(dir, 'data'),
      RECAP_OUTBOX_DIR: path.join(dir, 'outbox'),
      ...(testDatabaseUrl ? { DATABASE_URL: testDatabaseUrl } : {}),
      ...extra,
    },
    dir,
    KILL_AFTER_MS,
  );
  // Before: the web server stayed up after the failure and the process never exited by itself.
  expect(Date.now() - started).toBeLessThan(KILL_AFTER_MS - 5_000);
  return result;
}

// The first start creates the embedded database (without TEST_DATABASE_URL): slow on a busy machine.
describe('recap serve when a listener of its own cannot start (built CLI)', { timeout: 120_000 }, () => {
  it('exits 1 with one line when the bounce port is taken, instead of serving pages half started', async () => {
    const result = await serve({ BOUNCE_SMTP_PORT: String(takenPort) });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      `recap: cannot listen for bounces on 127.0.0.1:${takenPort} (BOUNCE_SMTP_HOST, BOUNCE_SMTP_PORT): the port is in use (another recap serve on this machine? only one of them needs BOUNCE_SMTP_PORT)`,
    );
    expect(result.stdout).not.toMatch(/serving on/);
  });

  it('exits 1 with one line when the metrics port is taken', async () => {
    const result = await serve({ METRICS_PORT: String(takenPort) });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      `recap: cannot serve metrics on 127.0.0.1:${takenPort}: the port is in use`,
    );
  });
});
