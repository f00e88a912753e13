import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/database.ts';
import { pullSource } from '../../src/stories/story-pull.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const story = (id: string, title = `Story ${id}`) => ({
  id,
  title,
  url: `https://example.com/${id}`,
  source: { name: 'Example' },
  publishedAt: '2026-11-23T09:30:00Z',
  audiences: ['Engineers'],
});

let database: TestDatabase;
let db: Db;
let http: Server;
let base: string;
let feed = [story('p1'), story('p2'), story('p3')];
let etag = '"v1"';
const hits: Record<string, number> = {};
const conditional: string[] = [];
let lastAuth: string | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  http = createServer((request, response) => {
    const path = request.url ?? '/';
    hits[path] = (hits[path] ?? 0) + 1;
    if (path === '/feed.ndjson') {
      lastAuth = request.headers.authorization;
      const since = request.headers['if-none-match'];
      if (since) conditional.push(String(since));
      if (since === etag) {
        response.writeHead(304, { etag });
        response.end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/x-ndjson', etag });
      for (const item of feed) response.write(`${JSON.stringify(item)}\n`);
      response.end();
    } else if (path === '/broken') {
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end('oops');
    } else if (path === '/slow') {
      // Answers headers, then never sends the body.
      response.writeHead(200, { 'content-type': 'application/x-ndjson' });
      response.write(`${JSON.stringify(story('slow1'))}\n`);
    } else if (path === '/silent') {
      // Never answers at all.
    } else if (path === '/mixed.json') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify([story('m1'), { id: 'm2' }, story('m3')]));
    } else {
      response.writeHead(404);
      response.end();
    }
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});
afterAll(async () => {
  http?.closeAllConnections();
  await new Promise<void>((resolve) => http?.close(() => resolve()));
  await database?.close();
});

const settings = { timeoutMs: 1500, retries: 2, maxBytes: 1_000_000, backoffMs: 10 };

describe('pullSource', () => {
  it('imports a feed, then a second pull is a 304 and says unchanged', async () => {
    const first = await pullSource(db, `${base}/feed.ndjson`, { ...settings, auth: 'Bearer feed-secret' });
    expect(first.status).toBe('imported');
    expect(first.summary).toBe('3 new');
    expect(lastAuth).toBe('Bearer feed-secret');
    const second = await pullSource(db, `${base}/feed.ndjson`, settings);
    expect(second.status).toBe('unchanged');
    expect(second.summary).toBe('unchanged');
    expect(conditional).toEqual(['"v1"']);
    const source = await db
      .selectFrom('ingest_sources')
      .selectAll()
      .where('url', '=', `${base}/feed.ndjson`)
      .executeTakeFirstOrThrow();
    expect(source.etag).toBe('"v1"');
    expect(source.last_status).toBe('unchanged');
    expect(source.imported).toBe(3);

    // The feed changes: one story updated, one added, one retracted.
    feed = [story('p1'), story('p2', 'Updated'), { id: 'p3', retracted: true } as never, story('p4')];
    etag = '"v2"';
    const third = await pullSource(db, `${base}/feed.ndjson`, settings);
    expect(third.summary).toBe('1 new, 1 updated, 1 unchanged, 1 retracted');
  });

  it('retries a failing source, then reports it', async () => {
    const result = await pullSource(db, `${base}/broken`, settings);
    expect(result.status).toBe('failed');
    expect(result.summary).toBe('HTTP 500 Internal Server Error (after 3 attempts)');
    expect(hits['/broken']).toBe(3);
    const source = await db
      .selectFrom('ingest_sources')
      .selectAll()
      .where('url', '=', `${base}/broken`)
      .executeTakeFirstOrThrow();
    expect(source.last_status).toBe('failed');
    expect(source.last_detail).toContain('HTTP 500');
  });

  it('times out a slow source, keeping nothing of a half-read body', async () => {
    const silent = await pullSource(db, `${base}/silent`, { ...settings, retries: 0 });
    expect(silent.status).toBe('failed');
    expect(silent.summary).toBe('no answer within 1.5 s');
    const slow = await pullSource(db, `${base}/slow`, { ...settings, retries: 1 });
    expect(slow.status).toBe('failed');
    expect(slow.summary).toBe('no answer within 1.5 s (after 2 attempts)');
    const row = await db.selectFrom('stories').select('id').where('id', '=', 'slow1').executeTakeFirst();
    expect(row).toBeUndefined();
  });

  it('imports the valid records of a pulled feed and reports the others', async () => {
    const result = await pullSource(db, `${base}/mixed.json`, settings);
    expect(result.status).toBe('imported');
    expect(result.summary).toBe('2 new; 1 invalid records skipped');
    expect(result.outcome?.problems[0]).toMatchObject({ record: 2, id: 'm2', field: 'title' });
    const strict = await pullSource(db, `${base}/mixed.json`, { ...settings, skipInvalid: false });
    expect(strict.status).toBe('refused');
  });

  it('skips a source another process is pulling (advisory lock)', async () => {
    if (database.kind !== 'postgres') return;
    const { secondConnection } = await import('../support/database.ts');
    const other = secondConnection(database.url as string);
    try {
      await other.transaction().execute(async (trx) => {
        const { sql } = await import('kysely');
        await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`recap-ingest ${base}/feed.ndjson`}, 0))`.execute(
          trx,
        );
        const result = await pullSource(db, `${base}/feed.ndjson`, settings);
        expect(result.status).toBe('skipped');
      });
    } finally {
      await other.destroy();
    }
  });
});
