import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { createTestApp } from '../web/web-fixtures.ts';

// Inputs that used to answer 500: characters PostgreSQL refuses, a gzip body sent as JSON, a malformed
// editor cookie, a pin naming a segment that does not exist. Real server, real database.
const TOKEN = 'ingest-token-0123456789-abcdefghij';
const EDITOR_TOKEN = 'editor-token-0123456789-abcdefghij';
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

beforeAll(async () => {
  app = await createTestApp({ INGEST_TOKEN: TOKEN, EDITOR_TOKEN });
  server = await startServer(app, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server?.close();
  await app?.close();
});

function ingest(body: BodyInit, headers: Record<string, string> = {}, query = '') {
  return fetch(`${server.url}/api/stories${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
    body,
    duplex: 'half',
  } as RequestInit);
}
const lastRun = () =>
  app.db.selectFrom('ingest_runs').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow();
const storedIds = async () =>
  (await app.db.selectFrom('stories').select('id').orderBy('id').execute()).map((row) => row.id);

describe('characters PostgreSQL refuses', () => {
  it('answers 422 naming the field, records a refused run, and stores nothing', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ title: 'Before\u0000after' }, 'title'],
      [{ keyTakeaways: ['fine', 'bad\u0000'] }, 'keyTakeaways.1'],
      [{ tldr: { whyItMatters: 'half a pair \uD83D here' } }, 'tldr.whyItMatters'],
      [{ source: { name: 'Ex\u0000ample' } }, 'source.name'],
      [{ related: [{ title: 'x\u0000' }] }, 'related.0.title'],
    ];
    for (const [extra, field] of cases) {
      const response = await ingest(JSON.stringify([story('nul', extra)]));
      expect(response.status, field).toBe(422);
      const body = (await response.json()) as { errors: Array<{ field: string; reason: string }> };
      expect(body.errors.map((e) => e.field)).toEqual([field]);
      expect(body.errors[0]?.reason).toMatch(/NUL|surrogate/);
      const run = await lastRun();
      expect(run.status).toBe('refused');
      expect(run.invalid).toBe(1);
    }
    // A retraction naming such an id, and a DELETE of one, are refused too (no query reaches PostgreSQL).
    expect((await ingest(JSON.stringify({ id: 'a\u0000', retracted: true }))).status).toBe(422);
    const deleted = await fetch(`${server.url}/api/stories/a%00b`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(deleted.status).toBe(404);
    // With skipInvalid the other records are stored and the bad one reported.
    const skipped = await ingest(
      JSON.stringify([story('ok1'), story('nul2', { title: '\u0000' })]),
      {},
      '?skipInvalid=true',
    );
    expect(skipped.status).toBe(200);
    expect(await storedIds()).toEqual(['ok1']);
  });
});

describe('a compressed body', () => {
  it('sent as JSON without Content-Encoding: 415 with one line, recorded as a refused run', async () => {
    const gz = gzipSync(JSON.stringify(Array.from({ length: 50 }, (_, i) => story(`gz${i}`))));
    // Its first bytes arrive alone, as they may on a slow link: the check does not depend on chunking.
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(gz.subarray(0, 1));
        setTimeout(() => {
          controller.enqueue(gz.subarray(1));
          controller.close();
        }, 20);
      },
    });
    const response = await ingest(body);
    expect(response.status).toBe(415);
    const answer = (await response.json()) as { error: string };
    expect(answer.error).toMatch(/^the body is gzip-compressed/);
    expect(answer.error).not.toMatch(/\n/);
    const run = await lastRun();
    expect(run.status).toBe('refused');
    expect(run.detail).toMatch(/gzip-compressed/);

    const encoded = await ingest(gz, { 'content-encoding': 'gzip' });
    expect(encoded.status).toBe(415);
    expect(((await encoded.json()) as { error: string }).error).toMatch(/Content-Encoding gzip/);
    expect((await lastRun()).detail).toMatch(/Content-Encoding gzip/);
    expect((await storedIds()).filter((id) => id.startsWith('gz'))).toEqual([]);
  });
});

describe('the editor', () => {
  it('ignores a malformed recap_editor cookie (beside a valid bearer token, and alone)', async () => {
    const withBearer = await fetch(`${server.url}/`, {
      headers: { authorization: `Bearer ${EDITOR_TOKEN}`, cookie: 'recap_editor=%E0%A4%A' },
    });
    expect(withBearer.status).toBe(200);
    const alone = await fetch(`${server.url}/`, { headers: { cookie: 'recap_editor=%E0%A4%A' } });
    expect(alone.status).toBe(401);
    // A second cookie of the same name (set by a page on another localhost port) does not lock it out.
    const two = await fetch(`${server.url}/`, {
      headers: { cookie: `recap_editor=planted; recap_editor=${encodeURIComponent(EDITOR_TOKEN)}` },
    });
    expect(two.status).toBe(200);
  });

  it('answers 400 to a pin naming a segment that does not exist, and stores no override', async () => {
    expect((await ingest(JSON.stringify([story('pinme')]))).status).toBe(200);
    const response = await fetch(`${server.url}/editor/issues/2026-W48/overrides`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        authorization: `Bearer ${EDITOR_TOKEN}`,
        'content-type': 'application/x-www-form-urlencoded',
        origin: server.url,
      },
      body: new URLSearchParams({ action: 'pin', story: 'pinme', segment: '424242', position: '0' }),
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('Segment 424242 does not exist');
    expect(await app.db.selectFrom('issue_overrides').selectAll().execute()).toEqual([]);
  });
});
