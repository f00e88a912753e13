/**
 * Does the story import stream? A ~50 MB NDJSON file (~23,000 stories) imported from the file and pushed
 * through POST /api/stories, each in a fresh child process on a fresh database; peak RSS sampled every
 * 10 ms against an idle child that opened the same application and database and imported nothing.
 * Needs PostgreSQL at BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); creates and
 * drops its own databases. Run: npm run bench -- import [--args MB]
 * A last run POSTs a JSON array with one 24 MiB element (refused by the per-record cap): its peak must
 * stay as flat as the NDJSON import's, whatever the shape of the body.
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const here = fileURLToPath(import.meta.url);
const root = path.resolve(path.dirname(here), '..');
const baseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TOKEN = 'bench-ingest-token-0123456789-abcdef';

interface ChildReport {
  peakRss: number;
  baseRss: number;
  seconds: number;
  records: number;
  summary: string;
}

type Mode = 'idle' | 'file' | 'api' | 'array';
const ELEMENT_BYTES = 24 * 1024 * 1024;
const LABELS: Record<Mode, string> = {
  idle: 'idle command (opened app and database, nothing imported)',
  file: 'file import (`recap import stories FILE` path)',
  api: 'POST /api/stories (NDJSON, streamed)',
  array: 'POST /api/stories (JSON array, one 24 MiB element, streamed)',
};

if (process.argv[2] === 'child') await child(process.argv[3] as Mode, process.argv[4] ?? '');
else await parent();

async function parent(): Promise<void> {
  const megabytes = Number(process.argv[2] ?? 50);
  const dir = mkdtempSync(path.join(tmpdir(), 'recap-bench-import-'));
  const file = path.join(dir, 'stories.ndjson');
  const count = await writeStories(file, megabytes * 1024 * 1024);
  const size = statSync(file).size;
  const rows: string[] = [];
  let idle: ChildReport | undefined;
  for (const mode of ['idle', 'file', 'api', 'array'] as const) {
    const name = `recap_bench_import_${mode}_${process.pid}`;
    const admin = new pg.Client({ connectionString: baseUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(baseUrl);
    url.pathname = `/${name}`;
    try {
      const report = await runChild(mode, file, url.toString());
      if (mode === 'idle') idle = report;
      const above = idle ? report.peakRss - idle.peakRss : 0;
      rows.push(
        `| ${LABELS[mode]} | ${mb(report.peakRss)} | ${mode === 'idle' ? '—' : `${mb(above)}`} | ${mode === 'idle' ? '—' : `${report.seconds.toFixed(1)} s`} | ${mode === 'idle' ? '—' : Math.round(report.records / report.seconds).toLocaleString('en-US')} | ${report.summary} |`,
      );
    } finally {
      const cleanup = new pg.Client({ connectionString: baseUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    }
  }
  rmSync(dir, { recursive: true, force: true });
  console.log(
    `node ${process.version}, NODE_ENV=${process.env.NODE_ENV}; input ${mb(size)} NDJSON, ${count.toLocaleString('en-US')} stories\n`,
  );
  console.log('| run | peak RSS | above the idle command | time | records/s | result |');
  console.log('|---|--:|--:|--:|--:|---|');
  for (const row of rows) console.log(row);
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

function runChild(mode: string, file: string, databaseUrl: string): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', here, 'child', mode, file], {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        INGEST_TOKEN: TOKEN,
        RECAP_SECRET: 'bench-secret-0123456789-abcdefghijklmnop',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    proc.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`${mode} child exited with ${code}: ${out}`));
      resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as ChildReport);
    });
  });
}

/** POSTs a file as NDJSON, streamed: the request is written only as fast as the server reads it. */
function postFile(url: string, file: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${TOKEN}` },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (part: string) => {
          text += part;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      },
    );
    request.on('error', reject);
    pipeline(createReadStream(file, { highWaterMark: 256 * 1024 }), request).catch(reject);
  });
}

/** Writes realistic stories (the aggregator's example, varied) until the file reaches `bytes`. */
async function writeStories(file: string, bytes: number): Promise<number> {
  const base = JSON.parse(readFileSync(path.join(root, 'emails/fixtures/story.json'), 'utf8'));
  const out = createWriteStream(file);
  let written = 0;
  let count = 0;
  const audiences = [
    'Founders & Product Leaders',
    'Engineers & Developers',
    'Researchers',
    'Policy',
    'Investors',
  ];
  while (written < bytes) {
    const line = `${JSON.stringify({
      ...base,
      id: `bench-${count}`,
      title: `${base.title} #${count}`,
      url: `https://news.example.com/${count}`,
      audiences: [audiences[count % audiences.length], audiences[(count + 2) % audiences.length]],
      publishedAt: new Date(Date.UTC(2026, 10, 23) + (count % 7) * 86_400_000).toISOString(),
    })}\n`;
    if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    written += Buffer.byteLength(line);
    count += 1;
  }
  await new Promise<void>((resolve) => out.end(resolve));
  return count;
}

/** POSTs `[story, {"id":"big","title":"aaa…"}]` with a 24 MiB title, streamed with backpressure. */
function postArrayElement(url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (part: string) => {
          text += part;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      },
    );
    request.on('error', reject);
    const story = readFileSync(path.join(root, 'emails/fixtures/story.json'), 'utf8').trim();
    const filler = Buffer.alloc(64 * 1024, 'a');
    async function* body(): AsyncGenerator<Buffer> {
      yield Buffer.from(`[${story},\n{"id":"big","title":"`);
      for (let sent = 0; sent < ELEMENT_BYTES; sent += filler.length) yield filler;
      yield Buffer.from('"}]');
    }
    pipeline(body, request).catch(reject);
  });
}

async function child(mode: Mode, file: string): Promise<void> {
  // As `recap import stories`, `recap ingest` and `recap serve` do, before the app loads; the idle child too.
  const { collectOldGarbageSooner } = await import('../src/cli/heap-tuning.ts');
  collectOldGarbageSooner();
  const { openApp } = await import('../src/cli/app.ts');
  const { importStories } = await import('../src/stories/story-import.ts');
  const { readStoryRecords } = await import('../src/stories/story-stream.ts');
  const { startServer } = await import('../src/web/server.ts');
  const app = await openApp();
  // Both paths' modules loaded in every child, so the only difference is the import itself.
  const server = await startServer(app, { port: 0, host: '127.0.0.1' });
  const gc = () => (globalThis as { gc?: () => void }).gc?.();
  gc();
  const baseRss = process.memoryUsage().rss;
  let peakRss = baseRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 10);
  const started = performance.now();
  let summary = '';
  let records = 0;
  if (mode === 'idle') {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    summary = 'nothing imported';
  } else if (mode === 'file') {
    const outcome = await importStories(
      app.db,
      readStoryRecords(createReadStream(file, { highWaterMark: 256 * 1024 })),
      { skipInvalid: false },
    );
    records = outcome.total;
    summary = `${outcome.imported} new, ${outcome.problemCount} problems`;
  } else if (mode === 'array') {
    const { status, text } = await postArrayElement(`${server.url}/api/stories`);
    const answer = JSON.parse(text) as { errors?: Array<{ reason?: string }> };
    summary = `HTTP ${status}, ${answer.errors?.[0]?.reason ?? text.slice(0, 80)}`;
  } else {
    // The client runs in this process too, streaming the file with backpressure (node:http and
    // pipeline): what it adds is a few chunks. fetch() with a file stream as its body read the file
    // ahead of the socket and held ~55 MB of it in arrayBuffers, which is the client, not the server.
    const { status, text } = await postFile(`${server.url}/api/stories`, file);
    const answer = JSON.parse(text) as { imported?: number };
    records = answer.imported ?? 0;
    summary = `HTTP ${status}, ${answer.imported ?? 0} new`;
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  await server.close();
  await app.close();
  process.stdout.write(`${JSON.stringify({ peakRss, baseRss, seconds, records, summary })}\n`);
}
