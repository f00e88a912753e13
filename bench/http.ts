/**
 * Tracking endpoints under load: autocannon on loopback for 10 s against the open pixel and the click
 * redirect of the real server (events stored durably in PostgreSQL before each answer), beside a bare
 * node:http server returning the same GIF. Each server runs in its own process; autocannon here.
 *
 *   npx tsx bench/http.ts            (BENCH_DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/test)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import pg from 'pg';
import { type App, assembleApp } from '../src/cli/app.ts';
import { loadConfig } from '../src/config.ts';
import { connectDatabase } from '../src/db/connect.ts';
import type { Mailer } from '../src/mail/mailer.ts';
import { signClickTokens, signToken } from '../src/tracking/token.ts';
import { startServer } from '../src/web/server.ts';
import { PIXEL_GIF } from '../src/web/tracking-routes.ts';

const SECRET = 'bench-secret-0123456789-abcdefghijklmnop';
const SUBSCRIBERS = 5_000;
const LINKS = 8;
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
const baseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodeStats: Record<string, { count: number }>;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

async function serveBare(): Promise<void> {
  const server = createServer((_request, response) => {
    response.writeHead(200, {
      'content-type': 'image/gif',
      'cache-control': 'no-store',
      'content-length': PIXEL_GIF.length,
    });
    response.end(PIXEL_GIF);
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`READY ${typeof address === 'object' && address ? address.port : 0}\n`);
  });
}

/** Fastify with the GIF and nothing else: what the framework alone costs on this machine. */
async function serveFastify(): Promise<void> {
  const server = Fastify({ logger: false });
  server.get('/o/:token', async (_request, reply) =>
    reply.header('content-type', 'image/gif').header('cache-control', 'no-store').send(PIXEL_GIF),
  );
  const address = await server.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`READY ${new URL(address).port}\n`);
}

async function serveRecap(databaseUrl: string, ackAfterWrite: boolean): Promise<void> {
  const handle = await connectDatabase({ databaseUrl, dataDir: 'unused', poolSize: 10 });
  const config = loadConfig(
    {
      NODE_ENV: 'production',
      RECAP_SECRET: SECRET,
      DATABASE_URL: databaseUrl,
      PUBLIC_URL: 'http://127.0.0.1',
    },
    { dotenvPath: '/nonexistent/.env' },
  );
  const app: App = assembleApp(config, handle.db, 'postgres', handle.close);
  const mailer: Mailer = { send: async () => ({ ok: true }), close: async () => {} };
  const server = await startServer({ ...app, mailer }, { port: 0, host: '127.0.0.1', ackAfterWrite });
  process.stdout.write(`READY ${new URL(server.url).port}\n`);
  process.once('SIGTERM', async () => {
    await server.close();
    await app.close();
    process.exit(0);
  });
}

function spawnServer(
  role: string,
  databaseUrl = '',
  mode = '',
): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_PROFILE_DIR
        ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE_DIR]
        : []),
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      role,
      databaseUrl,
      mode,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NODE_ENV: 'production' },
    },
  );
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${role} server exited with ${code}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      const match = /READY (\d+)/.exec(chunk.toString());
      if (match) resolve({ port: Number(match[1]), child });
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  child.removeAllListeners('exit');
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function seed(databaseUrl: string): Promise<{ issueId: number; subscriberIds: string[] }> {
  const handle = await connectDatabase({ databaseUrl, dataDir: 'unused' });
  const db = handle.db;
  const issue = await db
    .insertInto('issues')
    .values({ week: '2026-W48', status: 'sent' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const subscribers = await db
    .insertInto('subscribers')
    .values(
      Array.from({ length: SUBSCRIBERS }, (_, i) => ({
        email: `reader${i}@example.org`,
        status: 'active' as const,
      })),
    )
    .returning('id')
    .execute();
  await db
    .insertInto('issue_links')
    .values(
      Array.from({ length: LINKS }, (_, i) => ({
        issue_id: issue.id,
        position: i + 1,
        url: `https://example.com/story-${i + 1}`,
      })),
    )
    .execute();
  const sentAt = new Date(Date.now() - 3_600_000);
  for (let i = 0; i < subscribers.length; i += 1_000) {
    await db
      .insertInto('deliveries')
      .values(
        subscribers.slice(i, i + 1_000).map((s) => ({
          issue_id: issue.id,
          subscriber_id: s.id,
          segment_key: 'all',
          status: 'sent' as const,
          message_id: `<b.${s.id}@bench>`,
          sent_at: sentAt,
        })),
      )
      .execute();
  }
  await handle.close();
  return { issueId: issue.id, subscriberIds: subscribers.map((s) => s.id) };
}

async function load(port: number, paths: string[]): Promise<AutocannonResult> {
  let next = 0;
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: DURATION_S,
    headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Thunderbird/128.0' },
    requests: [
      {
        setupRequest: (request: { path: string }) => {
          request.path = paths[next++ % paths.length] ?? '/';
          return request;
        },
      },
    ],
  });
}

async function countEvents(databaseUrl: string, kind: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const result = await client.query('SELECT count(*)::int AS n FROM tracking_events WHERE kind = $1', [kind]);
  await client.end();
  return result.rows[0].n as number;
}

async function main(): Promise<void> {
  const loadBefore = loadavg()
    .map((n) => n.toFixed(1))
    .join(' / ');
  const name = `recap_bench_http_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  try {
    const { issueId, subscriberIds } = await seed(databaseUrl);
    const secrets = { current: SECRET, previous: [] };
    const openPaths = subscriberIds.map(
      (id) => `/o/${signToken(secrets, { kind: 'open', subscriberId: id, issueId })}`,
    );
    const clickPaths = subscriberIds.flatMap((id, i) =>
      signClickTokens(secrets, id, issueId, [(i % LINKS) + 1]).map((token) => `/c/${token}`),
    );

    const rows: Array<[string, AutocannonResult, number | null]> = [];
    const bare = await spawnServer('bare');
    await load(bare.port, ['/warmup']);
    rows.push(['bare node:http, same GIF', await load(bare.port, openPaths), null]);
    await stop(bare.child);
    const framework = await spawnServer('fastify');
    rows.push([
      'fastify, same GIF, no token check, no database',
      await load(framework.port, openPaths),
      null,
    ]);
    await stop(framework.child);

    for (const [label, kind, paths, mode] of [
      ['recap open pixel GET /o/:token, answered at once (default)', 'open', openPaths, 'queued'],
      ['recap click GET /c/:token (302), answered at once (default)', 'click', clickPaths, 'queued'],
      ['recap open pixel, answered after the INSERT (TRACKING_ACK_AFTER_WRITE)', 'open', openPaths, 'ack'],
      ['recap click (302), answered after the INSERT (TRACKING_ACK_AFTER_WRITE)', 'click', clickPaths, 'ack'],
    ] as const) {
      const before = await countEvents(databaseUrl, kind);
      const recap = await spawnServer('recap', databaseUrl, mode);
      const result = await load(recap.port, [...paths]);
      await stop(recap.child);
      rows.push([label, result, (await countEvents(databaseUrl, kind)) - before]);
    }

    const bareRate = rows[0]?.[1].requests.average ?? 1;
    process.stdout.write(
      `\n### HTTP tracking endpoints (${DURATION_S} s, ${CONNECTIONS} connections, loopback, PostgreSQL ${name})\n\n`,
    );
    process.stdout.write(`machine: ${cpus().length} cores, load average before the run ${loadBefore}\n\n`);
    process.stdout.write(
      '| server | req/s | % of bare | p50 ms | p99 ms | answered | events stored | non-2xx/3xx or errors |\n',
    );
    process.stdout.write('|---|---:|---:|---:|---:|---:|---:|---:|\n');
    for (const [label, r, stored] of rows) {
      const answered = Object.entries(r.statusCodeStats)
        .filter(([code]) => code === '200' || code === '302')
        .reduce((sum, [, s]) => sum + s.count, 0);
      const bad = r.requests.total - answered + r.errors + r.timeouts;
      process.stdout.write(
        `| ${label} | ${Math.round(r.requests.average).toLocaleString('en-US')} | ${Math.round((100 * r.requests.average) / bareRate)} % | ${r.latency.p50} | ${r.latency.p99} | ${answered.toLocaleString('en-US')} | ${stored === null ? '–' : stored.toLocaleString('en-US')} | ${bad} |\n`,
      );
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

const [role, databaseUrl, mode] = process.argv.slice(2);
if (role === 'bare') await serveBare();
else if (role === 'fastify') await serveFastify();
else if (role === 'recap') await serveRecap(databaseUrl ?? '', mode === 'ack');
else await main();
