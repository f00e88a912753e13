import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.ts';
import { startSend } from '../../src/delivery/start-send.ts';
import { signToken } from '../../src/tracking/token.ts';
import { seedSend } from '../delivery/send-fixtures.ts';
import { tempWorkdir } from '../support/cli.ts';
import { type OwnPostgres, startOwnPostgres } from '../support/own-postgres.ts';
import { type MetricFamily, parsePrometheusText, sampleValue } from '../support/prometheus-text.ts';
import { type ServeProcess, startServe } from '../support/serve-process.ts';

// The built `recap serve` (METRICS_PORT) and `recap worker --follow --metrics-port` against a cluster of
// this file's own: /metrics parses as Prometheus text, its counters move after a send, and it is
// served on its own listener only.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVE_METRICS_PORT = 19464;
const WORKER_METRICS_PORT = 19465;
const READERS = 30;
let cluster: OwnPostgres;
let handle: DatabaseHandle;
let serve: ServeProcess | undefined;
let worker: ChildProcess | undefined;
let env: Record<string, string>;

beforeAll(async () => {
  cluster = await startOwnPostgres();
  handle = await connectDatabase({ databaseUrl: cluster.url, dataDir: 'unused' });
  const work = tempWorkdir('recap-metrics-');
  env = {
    DATABASE_URL: cluster.url,
    RECAP_SECRET: 'metrics-test-secret-0123456789abcdefghij',
    RECAP_DATA_DIR: path.join(work, 'data'),
    RECAP_OUTBOX_DIR: path.join(work, 'outbox'),
    RECAP_FROM_EMAIL: 'recap@news.example.test',
  };
}, 120_000);
afterAll(async () => {
  serve?.child.kill('SIGKILL');
  worker?.kill('SIGKILL');
  await handle?.close();
  await cluster?.destroy();
});

async function scrape(port: number): Promise<Map<string, MetricFamily>> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const families = parsePrometheusText(await response.text());
  // Conventions: counters end in _total; no family carries a label that grows with issues or readers.
  for (const family of families.values()) {
    if (family.type === 'counter') expect(family.name).toMatch(/_total$/);
    for (const sample of family.samples)
      expect(
        Object.keys(sample.labels).filter((key) => /issue|week|email|address|subscriber/.test(key)),
      ).toEqual([]);
  }
  return families;
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined && done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in time (last: ${JSON.stringify(value)})`);
    await sleep(250);
  }
}

function startWorker(): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [path.join(root, 'bin/recap.js'), 'worker', '--follow', '--metrics-port', String(WORKER_METRICS_PORT)],
    {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', LOG_FORMAT: 'json', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`metrics on http://127.0.0.1:${WORKER_METRICS_PORT}/metrics`)) resolve(child);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`recap worker exited with ${code}: ${output}`)));
  });
}

describe('GET /metrics (Prometheus text, its own listener)', () => {
  it('recap serve exports the send queue and the latest send from the database, a following worker counts what it sent', async () => {
    const seeded = await seedSend(handle.db, READERS);
    serve = await startServe({ ...env, METRICS_PORT: String(SERVE_METRICS_PORT) });
    const running = serve;
    await until(
      async () => running.output(),
      (output) => output.includes(`metrics on http://127.0.0.1:${SERVE_METRICS_PORT}/metrics`),
    );
    // Never on the public port.
    expect((await fetch(`${serve.url}/metrics`)).status).toBe(404);
    // Only /metrics on the metrics port.
    expect((await fetch(`http://127.0.0.1:${SERVE_METRICS_PORT}/`)).status).toBe(404);

    const before = await scrape(SERVE_METRICS_PORT);
    expect(sampleValue(before, 'recap_database_figures_up')).toBe(1);
    expect(sampleValue(before, 'recap_send_queue_depth')).toBe(0);
    expect(sampleValue(before, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(sampleValue(before, 'recap_tracking_events_accepted_total')).toBe(0);

    await startSend(handle.db, seeded.issueId, { messageIdDomain: 'news.example.test' });
    const queued = await scrape(SERVE_METRICS_PORT);
    expect(sampleValue(queued, 'recap_send_queue_depth')).toBe(READERS);
    expect(sampleValue(queued, 'recap_latest_send_messages', { status: 'queued' })).toBe(READERS);
    expect(sampleValue(queued, 'recap_latest_send_started_timestamp_seconds')).toBeGreaterThan(0);

    worker = await startWorker();
    const sent = await until(
      () => scrape(WORKER_METRICS_PORT),
      (families) => sampleValue(families, 'recap_messages_sent_total') === READERS,
    );
    expect(sampleValue(sent, 'recap_messages_failed_total')).toBe(0);
    expect(sampleValue(sent, 'recap_send_rate_messages_per_second')).toBeGreaterThan(0);
    // The worker does not export what the database says: serve does, once.
    expect(sampleValue(sent, 'recap_send_queue_depth')).toBeUndefined();

    const after = await until(
      () => scrape(SERVE_METRICS_PORT),
      (families) => sampleValue(families, 'recap_send_queue_depth') === 0,
    );
    expect(sampleValue(after, 'recap_latest_send_messages', { status: 'sent' })).toBe(READERS);
    expect(sampleValue(after, 'recap_latest_send_complaints')).toBe(0);

    // An open answered moves the tracking counter of the server that answered it.
    const [subscriberId] = [...seeded.subscribers.values()] as [string];
    const secrets = { current: env.RECAP_SECRET as string, previous: [] };
    const pixel = signToken(secrets, { kind: 'open', subscriberId, issueId: seeded.issueId });
    expect((await fetch(`${serve.url}/o/${pixel}.gif`)).status).toBe(200);
    const tracked = await until(
      () => scrape(SERVE_METRICS_PORT),
      (families) => sampleValue(families, 'recap_tracking_events_accepted_total') === 1,
    );
    expect(sampleValue(tracked, 'recap_tracking_events_not_kept_total')).toBe(0);
    worker.kill('SIGTERM');
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    serve = undefined;
  }, 300_000);

  it('a port already in use stops the worker with one line', async () => {
    const { createServer } = await import('node:net');
    const taken = createServer().listen(19466, '127.0.0.1');
    await new Promise((resolve) => taken.once('listening', resolve));
    try {
      const { runCli } = await import('../support/cli.ts');
      const result = await runCli(['worker', '--metrics-port', '19466'], env);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe('recap: cannot serve metrics on 127.0.0.1:19466: the port is in use\n');
      const bad = await runCli(['worker', '--metrics-port', 'nine'], env);
      expect(bad.stderr).toMatch(/^recap: --metrics-port: expected a port number \(0-65535\), got "nine"/);
    } finally {
      taken.close();
    }
  }, 120_000);
});
