import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { ConfigError } from '../../src/config.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { seedWeek, TEST_RECIPIENT, testApp, WEEK } from '../editor/editor-seed.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';

let t: TestDatabase;
let sink: SmtpSink;
let app: App;
let server: RunningServer;
const EDITOR_URL = 'https://editor.example.org';

beforeAll(async () => {
  t = await createTestDatabase();
  sink = await startSmtpSink();
  await seedWeek(t);
  app = testApp(t, { SMTP_URL: sink.url, EDITOR_URL });
  server = await startServer(app, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server?.close();
  await app?.close();
  await sink?.close();
  await t?.close();
});

/** A request from this machine with any Host header (fetch would not let us choose it). */
function send(
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: hostname,
        port: Number(port),
        path,
        method: options.method ?? 'GET',
        // The editor's token (made at start): only the Host decides these answers.
        headers: { authorization: `Bearer ${server.editor.token}`, ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const issueStatus = async () =>
  (await t.db.selectFrom('issues').select('status').where('week', '=', WEEK).executeTakeFirst())?.status;

describe('DNS rebinding: the editor answers only its own host names', () => {
  it('refuses a page whose name was rebound to 127.0.0.1, even with a matching Origin', async () => {
    const port = new URL(server.url).port;
    const rebound = `rebind.attacker.example:${port}`;
    const read = await send('/', { headers: { host: rebound } });
    expect(read.status).toBe(421);
    expect(read.body).not.toContain('Weeks</h1>');
    expect(read.headers['content-security-policy']).toBeDefined();

    // What the rebinding page's form sends: same-origin in the browser's eyes.
    const build = await send(`/editor/issues/${WEEK}/build`, {
      method: 'POST',
      headers: {
        host: rebound,
        origin: `http://${rebound}`,
        'sec-fetch-site': 'same-origin',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: '',
    });
    expect(build.status).toBe(421);
    expect(await issueStatus()).toBeUndefined();

    // The loopback names with the server's port still work.
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) {
      expect((await send('/', { headers: { host } })).status).toBe(200);
    }
    // EDITOR_URL's own host is allowed; a loopback name on another port is not.
    expect((await send('/', { headers: { host: 'editor.example.org' } })).status).toBe(200);
    expect((await send('/', { headers: { host: 'localhost:1' } })).status).toBe(421);
  });

  it('keeps subscriber routes public whatever the Host (they sit behind PUBLIC_URL)', async () => {
    const archive = await send('/archive', { headers: { host: 'recap.example.org' } });
    expect(archive.status).toBe(200);
    expect((await send('/healthz', { headers: { host: 'anything.example' } })).status).toBe(200);
  });

  it('builds the test-send notice link from EDITOR_URL, never from the Host header', async () => {
    const post = (path: string, fields: Record<string, string> = {}) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin: server.url,
          authorization: `Bearer ${server.editor.token}`,
        },
        body: new URLSearchParams(fields).toString(),
      });
    expect((await post(`/editor/issues/${WEEK}/build`)).status).toBe(303);
    const before = sink.messages.length;
    const sent = await post(`/editor/issues/${WEEK}/test`, { recipient: TEST_RECIPIENT });
    expect(sent.headers.get('location')).toMatch(/notice=Test/);
    const notice = sink.messages
      .slice(before)
      .find((message) => (message.parsed.text ?? '').includes('/editor/issues/'));
    expect(notice).toBeDefined();
    const text = `${notice?.parsed.text ?? ''}${String(notice?.parsed.html ?? '')}`;
    expect(text).toContain(`${EDITOR_URL}/editor/issues/${WEEK}?segments=`);
    expect(text).not.toContain('127.0.0.1');
  });
});

describe('EDITOR_TOKEN', () => {
  it('refuses a token shorter than 24 characters with one line naming it', () => {
    let error: unknown;
    try {
      testApp(t, { EDITOR_TOKEN: 'short-token-123' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as Error).message.split('\n').slice(1);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/EDITOR_TOKEN: expected at least 24 characters/);
  });

  it('sets its cookie HttpOnly, SameSite=Strict and Secure when EDITOR_URL is https', async () => {
    const token = 'a-long-enough-editor-token-0123456789';
    const guarded = await startServer(testApp(t, { SMTP_URL: sink.url, EDITOR_TOKEN: token, EDITOR_URL }), {
      port: 0,
      host: '127.0.0.1',
    });
    try {
      const first = await fetch(`${guarded.url}/editor/dashboard?token=${token}`, { redirect: 'manual' });
      expect(first.status).toBe(303);
      const cookie = first.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/; HttpOnly/);
      expect(cookie).toMatch(/; SameSite=Strict/);
      expect(cookie).toMatch(/; Secure/);
    } finally {
      await guarded.close();
    }
  });
});
