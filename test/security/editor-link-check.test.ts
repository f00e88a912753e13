import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { upsertStories } from '../../src/stories/story.repository.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { seedWeek, testApp, WEEK, weekStories } from '../editor/editor-seed.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { editorFetch } from '../support/editor-fetch.ts';

let t: TestDatabase;
let app: App;
let server: RunningServer;
// As an editor who opened the printed link: the server's token on every request.
const fetch = editorFetch(() => server.editor.token);
let linkServer: Server;
/** Requests the link targets received. */
let outbound = 0;

beforeAll(async () => {
  linkServer = createServer((_request, response) => {
    outbound += 1;
    response.end('ok');
  });
  await new Promise<void>((resolve) => linkServer.listen(0, '127.0.0.1', resolve));
  const linkBase = `http://127.0.0.1:${(linkServer.address() as AddressInfo).port}`;
  t = await createTestDatabase();
  await seedWeek(t);
  // Every story of the week links to the counting server.
  const stories = weekStories().map((story, i) => ({
    ...story,
    url: `${linkBase}/articles/${i + 1}`,
    canonicalUrl: `${linkBase}/articles/${i + 1}`,
  }));
  await t.db.transaction().execute((trx) => upsertStories(trx, stories));
  app = testApp(t);
  server = await startServer(app, { port: 0, host: '127.0.0.1' });
  const built = await fetch(`${server.url}/editor/issues/${WEEK}/build`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url },
    body: '',
  });
  expect(built.status).toBe(303);
});
afterAll(async () => {
  await server?.close();
  await app?.close();
  await t?.close();
  await new Promise((resolve) => linkServer?.close(resolve));
});

const checkLinks = (origin: string) =>
  fetch(`${server.url}/editor/issues/${WEEK}/check-links?segments=engineers-developers`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
    body: '',
  });

describe('editor actions with side effects are POST with origin checks', () => {
  it('a GET with ?check=links makes no outbound request; the POST from the editor does; a foreign Origin is refused', async () => {
    const page = await fetch(`${server.url}/editor/issues/${WEEK}?segments=engineers-developers&check=links`);
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).not.toContain('id="link-check"');
    expect(body).toContain(`method="post" action="/editor/issues/${WEEK}/check-links?`);
    expect(outbound).toBe(0);

    const foreign = await checkLinks('https://evil.example');
    expect(foreign.status).toBe(403);
    expect(outbound).toBe(0);

    const own = await checkLinks(server.url);
    expect(own.status).toBe(200);
    expect(await own.text()).toContain('id="link-check"');
    expect(outbound).toBeGreaterThan(0);
  });
});
