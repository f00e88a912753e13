import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/connect.ts';
import { runCli, tempWorkdir } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let feed: Server;
let feedUrl: string;
let database: TestDatabase | undefined;

beforeAll(async () => {
  feed = createServer((request, response) => {
    if (request.headers['if-none-match'] === '"one"') {
      response.writeHead(304);
      response.end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/x-ndjson', etag: '"one"' });
    response.end(
      `${JSON.stringify({ id: 'cli1', title: 'From the feed', url: 'https://example.com/cli1', source: { name: 'Feed' }, publishedAt: '2026-11-25T09:00:00Z' })}\n`,
    );
  });
  await new Promise<void>((resolve) => feed.listen(0, '127.0.0.1', resolve));
  feedUrl = `http://127.0.0.1:${(feed.address() as AddressInfo).port}/feed.ndjson`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => feed?.close(() => resolve()));
  await database?.close();
});

describe('recap ingest (child process)', () => {
  it('says clearly when a command that does not share the embedded database holds it', async () => {
    const dir = tempWorkdir();
    const data = path.join(dir, 'data');
    // This test process plays a `recap demo` holding ./data for itself.
    const holder = await connectDatabase({ databaseUrl: undefined, dataDir: data, command: 'recap demo' });
    try {
      const result = await runCli(['ingest'], {
        RECAP_DATA_DIR: data,
        RECAP_OUTBOX_DIR: path.join(dir, 'outbox'),
        RECAP_STORIES_URL: feedUrl,
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `cannot open the embedded database in ${data}: in use by \`recap demo\` (pid ${process.pid}), which does not share it`,
      );
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await holder.close();
    }
  }, 120_000);

  it('pulls every configured URL and prints a line each; the second run is unchanged', async () => {
    const candidate = await createTestDatabase();
    if (candidate.url) database = candidate;
    else await candidate.close();
    const dir = tempWorkdir();
    const env = {
      RECAP_DATA_DIR: path.join(dir, 'data'),
      RECAP_OUTBOX_DIR: path.join(dir, 'outbox'),
      RECAP_STORIES_URL: feedUrl,
      ...(database?.url ? { DATABASE_URL: database.url } : {}),
    };
    const first = await runCli(['ingest'], env);
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe(`${feedUrl}: 1 new\n`);
    const second = await runCli(['ingest'], env);
    expect(second.stdout).toBe(`${feedUrl}: unchanged\n`);
    const imported = await runCli(['import', 'stories', feedUrl], env);
    expect(imported.stdout).toBe(`imported 1 story from ${feedUrl} (1 unchanged)\n`);
  }, 180_000);
});
