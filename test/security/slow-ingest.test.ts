import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { listIngestRuns } from '../../src/stories/ingest.repository.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { type SlowUpload, startSlowUpload } from '../support/slow-upload.ts';
import { createTestApp } from '../web/web-fixtures.ts';

// Issue 22, point 2: ingest bodies that trickle in must not hold the database. Against the real server
// and the test database: the body is received whole before a connection is taken, a body below the
// minimum rate is cut off, and a token has a bounded number of uploads in progress.
const TOKEN = 'ingest-token-0123456789-abcdefghij';
const OLD_TOKEN = 'old-ingest-token-0123456789-abcdef';
/** The pool of a server on DATABASE_URL holds 10 connections (1 on the embedded database). */
const POOL_SIZE = 10;

let strictApp: App;
let strict: RunningServer;
let roomyApp: App;
let roomy: RunningServer;
const uploads: SlowUpload[] = [];

beforeAll(async () => {
  // The default minimum rate, a short grace, two uploads per token.
  strictApp = await createTestApp({
    INGEST_TOKEN: TOKEN,
    INGEST_PREVIOUS_TOKENS: OLD_TOKEN,
    INGEST_SLOW_GRACE_SECONDS: '1',
    INGEST_CONCURRENT_UPLOADS: '2',
  });
  strict = await startServer(strictApp, { port: 0, host: '127.0.0.1' });
  // Slow bodies allowed for ten minutes and as many uploads as the pool has connections: the case that
  // starved the pool, kept open while other pages are asked for.
  roomyApp = await createTestApp({
    INGEST_TOKEN: TOKEN,
    INGEST_SLOW_GRACE_SECONDS: '600',
    INGEST_TIMEOUT_SECONDS: '600',
    INGEST_CONCURRENT_UPLOADS: String(POOL_SIZE),
  });
  roomy = await startServer(roomyApp, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  for (const upload of uploads) upload.close();
  await strict?.close();
  await strictApp?.close();
  await roomy?.close();
  await roomyApp?.close();
});

const story = (id: string) =>
  JSON.stringify({
    id,
    title: `Story ${id}`,
    url: `https://example.com/${id}`,
    source: { name: 'Example' },
    publishedAt: '2026-11-23T09:30:00Z',
    audiences: ['Engineers'],
    summary: 'x'.repeat(800),
  });

const post = (url: string, body: string, token = TOKEN) =>
  fetch(`${url}/api/stories`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}` },
    body,
  });

function slowUpload(url: string, options: { bytes?: number; everyMs?: number } = {}): SlowUpload {
  const upload = startSlowUpload(url, { token: TOKEN, ...options });
  uploads.push(upload);
  return upload;
}

describe('slow ingest bodies', () => {
  it('cuts off a body arriving at one byte a second with 408 and records a refused run', async () => {
    const upload = slowUpload(strict.url, { bytes: 1, everyMs: 1000 });
    const answer = await upload.answer;
    expect(answer.status).toBe(408);
    expect(answer.head).toMatch(/\r\nconnection: close/i);
    expect(JSON.parse(answer.body).error).toMatch(/slower than 16384 bytes a second .*send it in one go/);
    const [run] = await listIngestRuns(strictApp.db, 'api', 1);
    expect(run).toMatchObject({ status: 'refused', imported: 0 });
    expect(run?.detail).toMatch(/slower than 16384 bytes a second/);
  });

  it('answers 429 with Retry-After past the uploads a token may have in progress; another token is counted apart', async () => {
    // Fast enough for the rule (64 KB every 100 ms), and never finished while the third one is sent.
    const first = slowUpload(strict.url, { bytes: 64 * 1024, everyMs: 100 });
    const second = slowUpload(strict.url, { bytes: 64 * 1024, everyMs: 100 });
    await expect.poll(() => first.sent() > 0 && second.sent() > 0).toBe(true);
    // Both requests are being read once their first bytes were taken in: ask until the third is refused.
    let third = { status: 0, retryAfter: null as string | null, error: '' };
    await expect
      .poll(async () => {
        const response = await post(strict.url, story('third'));
        third = {
          status: response.status,
          retryAfter: response.headers.get('retry-after'),
          error: ((await response.json()) as { error?: string }).error ?? '',
        };
        return third.status;
      })
      .toBe(429);
    expect(third.retryAfter).toBe('10');
    expect(third.error).toBe(
      '2 uploads with this token are in progress already: send this one when one has finished',
    );
    expect(first.open() && second.open()).toBe(true);

    const other = await post(strict.url, story('by-the-old-token'), OLD_TOKEN);
    expect(other.status).toBe(200);

    first.close();
    second.close();
    // Their slots are given back once the server sees the connections go.
    await expect.poll(async () => (await post(strict.url, story('after'))).status).toBe(200);
    const stored = await strictApp.db.selectFrom('stories').select('id').orderBy('id').execute();
    expect(stored.map((row) => row.id)).toEqual(expect.arrayContaining(['after', 'by-the-old-token']));
  });

  it('still imports an honest large upload sent at normal speed', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 12_000; i++) lines.push(story(`large-${i}`));
    const body = `${lines.join('\n')}\n`;
    expect(body.length).toBeGreaterThan(10 * 1024 * 1024);
    const response = await post(strict.url, body);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ imported: 12_000 });
    const [run] = await listIngestRuns(strictApp.db, 'api', 1);
    expect(run).toMatchObject({ status: 'imported', imported: 12_000, bytes: body.length });
  }, 120_000);

  it('answers /subscribe and /archive, and holds no database connection, while the pool-size of slow uploads trickles in', async () => {
    const slow = Array.from({ length: POOL_SIZE }, () => slowUpload(roomy.url, { bytes: 1, everyMs: 1000 }));
    // Every upload is being received (its first byte sent, a second on its way) before the pages are asked for.
    await expect.poll(() => slow.every((upload) => upload.sent() >= 2), { timeout: 10_000 }).toBe(true);

    const subscribe = await fetch(`${roomy.url}/subscribe`);
    expect(subscribe.status).toBe(200);
    expect(await subscribe.text()).toContain('<form');
    const archive = await fetch(`${roomy.url}/archive`);
    expect(archive.status).toBe(200);

    // No transaction is open in the test database but this query's own: the uploads hold none.
    const open = await sql<{ count: number }>`
      select count(*)::int as count from pg_stat_activity
      where datname = current_database() and xact_start is not null and pid <> pg_backend_pid()`.execute(
      roomyApp.db,
    );
    expect(open.rows[0]?.count ?? 0).toBe(0);
    expect(slow.every((upload) => upload.open())).toBe(true);
    for (const upload of slow) upload.close();
  }, 60_000);
});
