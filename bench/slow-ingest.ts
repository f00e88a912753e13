/**
 * Slow ingest bodies against the built server: GET /subscribe and GET /archive latency with no upload,
 * then while 30 uploads with a valid token send one byte a second each; also how those uploads were
 * answered and how many transactions the server held open in its database meanwhile. Runs the built
 * CLI (`node bin/recap.js serve`) of a checkout, so the code before a change can be measured the same
 * way (build it in a scratch worktree and point BENCH_ROOT at it).
 *
 *   npx tsx bench/slow-ingest.ts
 *   BENCH_ROOT=/tmp/before npx tsx bench/slow-ingest.ts           (another checkout's built CLI)
 *   BENCH_ENV='INGEST_CONCURRENT_UPLOADS=30 INGEST_SLOW_GRACE_SECONDS=600' npx tsx bench/slow-ingest.ts
 *
 * BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test): a database is created there
 * and dropped after. BENCH_PORT (default 3950). A request without an answer in 15 s counts as none.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = process.env.BENCH_ROOT ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const baseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const port = Number(process.env.BENCH_PORT ?? 3950);
const UPLOADS = Number(process.env.BENCH_UPLOADS ?? 30);
const SAMPLES = 10;
const TIMEOUT_MS = 15_000;
const TOKEN = `bench-ingest-token-${randomBytes(12).toString('hex')}`;
const extraEnv = Object.fromEntries(
  (process.env.BENCH_ENV ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);

interface Upload {
  socket: Socket;
  status: number | undefined;
  timer: NodeJS.Timeout;
}

/** A POST announcing 1 MB whose body comes one space a second; its answer's status once it comes. */
function slowUpload(): Upload {
  const socket = connect({ host: '127.0.0.1', port });
  const upload: Upload = { socket, status: undefined, timer: setInterval(() => socket.write(' '), 1000) };
  socket.write(
    `POST /api/stories HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${TOKEN}\r\n` +
      'Content-Type: application/x-ndjson\r\nContent-Length: 1000000\r\n\r\n',
  );
  socket.on('data', (data) => {
    upload.status ??= Number(/^HTTP\/1\.1 (\d+)/.exec(data.toString('latin1'))?.[1]);
  });
  socket.on('error', () => {});
  socket.on('close', () => clearInterval(upload.timer));
  return upload;
}

async function timed(url: string): Promise<number | undefined> {
  const started = performance.now();
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
    return performance.now() - started;
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') return undefined;
    throw error;
  }
}

/** Up to SAMPLES requests one after another; stops after two without an answer. */
async function sample(pathname: string): Promise<string> {
  const times: number[] = [];
  let missing = 0;
  for (let i = 0; i < SAMPLES && missing < 2; i++) {
    const ms = await timed(`http://127.0.0.1:${port}${pathname}`);
    if (ms === undefined) missing += 1;
    else times.push(ms);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const answered = `${times.length}/${times.length + missing} answered`;
  if (median === undefined) return `none in ${TIMEOUT_MS / 1000} s (${answered})`;
  const max = times[times.length - 1] ?? median;
  return `median ${median.toFixed(1)} ms, max ${max.toFixed(1)} ms (${answered})`;
}

async function openTransactions(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const result = await client.query<{ count: number }>(
    `select count(*)::int as count from pg_stat_activity
     where datname = current_database() and xact_start is not null and pid <> pg_backend_pid()`,
  );
  await client.end();
  return result.rows[0]?.count ?? 0;
}

async function waitUntilServing(server: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (server.exitCode !== null) throw new Error(`recap serve exited with ${server.exitCode}`);
    if ((await timed(`http://127.0.0.1:${port}/subscribe`).catch(() => undefined)) !== undefined) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('recap serve did not start');
}

/** "26 429, 4 still open": the uploads by how they were answered. */
function tally(list: Upload[]): string {
  const counts = new Map<string, number>();
  for (const upload of list) {
    const key = upload.status === undefined ? 'still open' : String(upload.status);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => `${n} ${key}`).join(', ');
}

/** A body just under the default INGEST_MAX_BYTES (64 MiB), sent as fast as loopback goes. */
async function honestPush(): Promise<{ mb: string; stories: number; result: string }> {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < 62 * 1024 * 1024; i++) {
    const line = `${JSON.stringify({
      id: `bench-${i}`,
      title: `Story ${i}`,
      url: `https://example.com/story/${i}`,
      source: { name: 'Example' },
      publishedAt: '2026-11-23T09:30:00Z',
      audiences: ['Engineers'],
      summary: 'A summary of the story. '.repeat(40),
    })}\n`;
    lines.push(line);
    size += Buffer.byteLength(line);
  }
  const started = performance.now();
  const response = await fetch(`http://127.0.0.1:${port}/api/stories`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${TOKEN}` },
    body: lines.join(''),
  });
  const answer = await response.text();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  return {
    mb: (size / 1024 / 1024).toFixed(1),
    stories: lines.length,
    result: `${response.status} in ${seconds} s: ${answer.slice(0, 80)}`,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const name = `recap_bench_${randomBytes(6).toString('hex')}`;
const admin = new pg.Client({ connectionString: baseUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(baseUrl);
url.pathname = `/${name}`;
const dataDir = mkdtempSync(path.join(tmpdir(), 'recap-bench-slow-'));
const server = spawn(
  process.execPath,
  ['bin/recap.js', 'serve', '--port', String(port), '--host', '127.0.0.1'],
  {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      DATABASE_URL: url.toString(),
      RECAP_DATA_DIR: path.join(dataDir, 'data'),
      RECAP_OUTBOX_DIR: path.join(dataDir, 'outbox'),
      RECAP_SECRET: 'bench-secret-0123456789-abcdefghijklmnop',
      EDITOR_TOKEN: 'bench-editor-token-0123456789-abcdef',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      RECAP_FROM_EMAIL: 'recap@example.com',
      INGEST_TOKEN: TOKEN,
      ...extraEnv,
    },
  },
);
const uploads: Upload[] = [];
try {
  await waitUntilServing(server);
  await timed(`http://127.0.0.1:${port}/archive`); // warm-up
  const before = { subscribe: await sample('/subscribe'), archive: await sample('/archive') };
  for (let i = 0; i < UPLOADS; i++) uploads.push(slowUpload());
  await sleep(3000);
  const held = await openTransactions(url.toString());
  const during = { subscribe: await sample('/subscribe'), archive: await sample('/archive') };
  const answers = tally(uploads);
  await sleep(15_000);
  const later = tally(uploads);
  for (const upload of uploads) upload.socket.destroy();
  const large = await honestPush();
  console.log(
    `checkout: ${root}; settings: ${process.env.BENCH_ENV || 'defaults'}; load ${loadavg()[0]?.toFixed(1)}\n`,
  );
  console.log('| measure | value |\n|---|---|');
  console.log(`| GET /subscribe, no upload | ${before.subscribe} |`);
  console.log(`| GET /archive, no upload | ${before.archive} |`);
  console.log(`| GET /subscribe, ${UPLOADS} uploads at 1 byte/s | ${during.subscribe} |`);
  console.log(`| GET /archive, ${UPLOADS} uploads at 1 byte/s | ${during.archive} |`);
  console.log(`| transactions open in the database 3 s after the uploads began | ${held} |`);
  console.log(`| the uploads, when the samples were done | ${answers} |`);
  console.log(`| the uploads, 15 s later | ${later} |`);
  console.log(
    `| then an honest ${large.mb} MB NDJSON push (${large.stories} stories) at full speed | ${large.result} |`,
  );
} finally {
  for (const upload of uploads) {
    clearInterval(upload.timer);
    upload.socket.destroy();
  }
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  rmSync(dataDir, { recursive: true, force: true });
}
