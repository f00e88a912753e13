import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { listIngestRuns } from '../../src/stories/ingest.repository.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { createTestApp } from './web-fixtures.ts';

const TOKEN = 'ingest-token-0123456789-abcdefghij';
const MAX_RECORD_CHARS = 1024 * 1024;

let app: App;
let server: RunningServer;

beforeAll(async () => {
  // A body limit far above the element: only the per-record cap can refuse it.
  app = await createTestApp({ INGEST_TOKEN: TOKEN, INGEST_MAX_BYTES: String(64 * 1024 * 1024) });
  server = await startServer(app, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server?.close();
  await app?.close();
});

describe('POST /api/stories with one oversized JSON array element', () => {
  it('answers 422 naming the per-record cap and the element, stores nothing, records a failed run', async () => {
    const CHUNK = 64 * 1024;
    const filler = new Uint8Array(CHUNK).fill(0x61);
    const story = (id: string) =>
      JSON.stringify({
        id,
        title: `Story ${id}`,
        url: `https://example.com/${id}`,
        source: { name: 'Example' },
        publishedAt: '2026-11-23T09:30:00Z',
        audiences: ['Engineers'],
      });
    const encoder = new TextEncoder();
    const parts = [
      encoder.encode(`[\n${story('small')},\n{"id":"big","title":"`),
      ...Array.from({ length: (24 * 1024 * 1024) / CHUNK }, () => filler),
      encoder.encode('"}\n]'),
    ];
    const response = await fetch(`${server.url}/api/stories`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: new ReadableStream({
        pull(controller) {
          const next = parts.shift();
          if (next === undefined) controller.close();
          else controller.enqueue(next);
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(422);
    expect(await response.json()).toEqual({
      errors: [
        { record: 2, line: 3, field: '(record)', reason: `larger than ${MAX_RECORD_CHARS} characters` },
      ],
      errorCount: 1,
    });
    expect(await app.db.selectFrom('stories').select('id').execute()).toEqual([]);
    const [run] = await listIngestRuns(app.db, 'api', 1);
    expect(run).toMatchObject({
      status: 'refused',
      imported: 0,
      detail: expect.stringContaining(`larger than ${MAX_RECORD_CHARS} characters`),
    });
  }, 60_000);
});
