import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { createTestApp } from './web-fixtures.ts';

const TOKEN = 'ingest-token-0123456789-abcdefghij';
const OLD_TOKEN = 'old-ingest-token-0123456789-abcdef';
const story = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  title: `Story ${id}`,
  url: `https://example.com/${id}`,
  source: { name: 'Example' },
  publishedAt: '2026-11-23T09:30:00Z',
  audiences: ['Engineers'],
  ...extra,
});

let app: App;
let server: RunningServer;
let disabledApp: App;
let disabled: RunningServer;

beforeAll(async () => {
  app = await createTestApp({
    INGEST_TOKEN: TOKEN,
    INGEST_PREVIOUS_TOKENS: OLD_TOKEN,
    INGEST_MAX_BYTES: '20000',
    INGEST_RATE_LIMIT: '30',
  });
  server = await startServer(app, { port: 0, host: '127.0.0.1' });
  disabledApp = await createTestApp();
  disabled = await startServer(disabledApp, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server?.close();
  await app?.close();
  await disabled?.close();
  await disabledApp?.close();
});

function post(body: string, options: { type?: string; token?: string | null; query?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': options.type ?? 'application/json' };
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return fetch(`${server.url}/api/stories${options.query ?? ''}`, { method: 'POST', headers, body });
}

async function storedIds(): Promise<string[]> {
  const rows = await app.db.selectFrom('stories').select('id').orderBy('id').execute();
  return rows.map((row) => row.id);
}

describe('POST /api/stories', () => {
  it('does not exist without INGEST_TOKEN (404, JSON)', async () => {
    const response = await fetch(`${disabled.url}/api/stories`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: '[]',
    });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    expect(await response.json()).toEqual({ error: 'not found' });
  });

  it('answers 401 with no detail to a missing or wrong token, and stores nothing', async () => {
    for (const token of [null, 'wrong-token-0123456789-abcdefghijk', `${TOKEN}x`]) {
      const response = await post(JSON.stringify([story('unauthorised')]), { token });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: 'unauthorized' });
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect(await storedIds()).toEqual([]);
  });

  it('imports a JSON array, then counts a repeat as unchanged and a change as updated', async () => {
    const first = await post(JSON.stringify([story('a1'), story('a2')]));
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^application\/json/);
    expect(first.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await first.json()).toEqual({ imported: 2, updated: 0, unchanged: 0, retracted: 0 });
    const again = await post(JSON.stringify([story('a1'), story('a2')]));
    expect(await again.json()).toEqual({ imported: 0, updated: 0, unchanged: 2, retracted: 0 });
    const changed = await post(JSON.stringify(story('a2', { title: 'A new title' })), { token: OLD_TOKEN });
    expect(await changed.json()).toEqual({ imported: 0, updated: 1, unchanged: 0, retracted: 0 });
    const row = await app.db.selectFrom('stories').select('title').where('id', '=', 'a2').executeTakeFirst();
    expect(row?.title).toBe('A new title');
    const segments = await app.db.selectFrom('story_segments').select('story_id').execute();
    expect(segments.map((s) => s.story_id).sort()).toEqual(['a1', 'a2']);
  });

  it('reads NDJSON', async () => {
    const body = `${JSON.stringify(story('n1'))}\n\n${JSON.stringify(story('n2'))}\n`;
    const response = await post(body, { type: 'application/x-ndjson' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ imported: 2, updated: 0, unchanged: 0, retracted: 0 });
    expect(await storedIds()).toEqual(expect.arrayContaining(['n1', 'n2']));
  });

  it('refuses a body with an invalid record whole: 422 with per-record errors, nothing stored', async () => {
    const before = await storedIds();
    const body = [
      JSON.stringify(story('v1')),
      JSON.stringify(story('v2', { url: 'javascript:alert(1)' })),
      'not json',
      JSON.stringify(story('v1', { title: 'twice' })),
    ].join('\n');
    const response = await post(body, { type: 'application/x-ndjson' });
    expect(response.status).toBe(422);
    const answer = (await response.json()) as { errors: Array<Record<string, unknown>>; errorCount: number };
    expect(answer.errors).toEqual([
      // `record` counts records; `line` is where each starts in the body.
      { record: 2, line: 2, id: 'v2', field: 'url', reason: 'must be an http(s) URL' },
      { record: 3, line: 3, field: '(record)', reason: expect.stringMatching(/^invalid JSON/) },
      { record: 4, line: 4, id: 'v1', field: 'id', reason: 'duplicate of record 1 in the same file' },
    ]);
    expect(answer.errorCount).toBe(3);
    expect(await storedIds()).toEqual(before);

    const partial = await post(body, { type: 'application/x-ndjson', query: '?skipInvalid=true' });
    expect(partial.status).toBe(200);
    const stored = (await partial.json()) as Record<string, unknown>;
    expect(stored).toMatchObject({ imported: 1, updated: 0, unchanged: 0, errorCount: 3 });
    expect(await storedIds()).toContain('v1');
    expect(await storedIds()).not.toContain('v2');
  });

  it('caps the error list at 100 plus a count', async () => {
    const body = Array.from({ length: 150 }, (_, i) => JSON.stringify({ id: `bad${i}` })).join('\n');
    const response = await post(body, { type: 'application/x-ndjson' });
    expect(response.status).toBe(422);
    const answer = (await response.json()) as { errors: unknown[]; errorCount: number };
    expect(answer.errors).toHaveLength(100);
    expect(answer.errorCount).toBeGreaterThan(150);
  });

  it('refuses a body over INGEST_MAX_BYTES with 413, declared or streamed, and stores nothing', async () => {
    const before = await storedIds();
    const many = Array.from({ length: 200 }, (_, i) => story(`big${i}`));
    const declared = await post(JSON.stringify(many));
    expect(declared.status).toBe(413);
    expect(await declared.json()).toEqual({ error: 'payload too large', maxBytes: 20000 });
    // Chunked (no Content-Length): the limit is counted while reading.
    const chunks = many.map((s) => `${JSON.stringify(s)}\n`);
    const streamed = await fetch(`${server.url}/api/stories`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${TOKEN}` },
      body: new ReadableStream({
        pull(controller) {
          const next = chunks.shift();
          if (next === undefined) controller.close();
          else controller.enqueue(new TextEncoder().encode(next));
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await storedIds()).toEqual(before);
  });

  it('refuses other content types with a JSON 415', async () => {
    const response = await post('id=1', { type: 'application/x-www-form-urlencoded' });
    expect(response.status).toBe(415);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    const untyped = await fetch(`${server.url}/api/stories`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(untyped.status).toBe(415);
    expect(await untyped.json()).toEqual({ error: 'send application/json or application/x-ndjson' });
  });

  it('retracts with DELETE and with "retracted": true', async () => {
    await post(JSON.stringify([story('r1'), story('r2')]));
    const deleted = await fetch(`${server.url}/api/stories/r1`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toEqual({ retracted: 1, unchanged: 0 });
    const unknown = await fetch(`${server.url}/api/stories/nope`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(unknown.status).toBe(404);
    const pushed = await post(JSON.stringify({ id: 'r2', retracted: true }));
    expect(await pushed.json()).toEqual({ imported: 0, updated: 0, unchanged: 0, retracted: 1 });
    const rows = await app.db
      .selectFrom('stories')
      .select(['id', 'retracted_at'])
      .where('id', 'in', ['r1', 'r2'])
      .execute();
    expect(rows.every((row) => row.retracted_at !== null)).toBe(true);
  });

  it('records each batch for the editor', async () => {
    const runs = await app.db.selectFrom('ingest_runs').selectAll().where('kind', '=', 'api').execute();
    expect(runs.some((run) => run.status === 'refused' && run.invalid === 3)).toBe(true);
    expect(runs.some((run) => run.source.startsWith('previous token 1'))).toBe(true);
  });

  it('limits requests per token with Retry-After', async () => {
    let limited: Response | undefined;
    for (let i = 0; i < 40 && !limited; i++) {
      const response = await post('[]');
      if (response.status === 429) limited = response;
      else expect(response.status).toBe(200);
    }
    expect(limited?.status).toBe(429);
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
    // The other token has its own allowance.
    expect((await post('[]', { token: OLD_TOKEN })).status).toBe(200);
  });
});
