import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { signToken } from '../../src/tracking/token.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { createTestApp, SECRET, type Seeded, seedIssue } from '../web/web-fixtures.ts';
import { type RawAnswer, rawRequest } from './raw-http.ts';

let app: App;
let server: RunningServer;
let seed: Seeded;
const secrets = { current: SECRET, previous: [] };

beforeAll(async () => {
  app = await createTestApp();
  seed = await seedIssue(app.db);
  server = await startServer(app, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server?.close();
  await app?.close();
});

const host = () => new URL(server.url).host;

/** An error answer as the issue asks: the status, the security headers, a short page, no stack. */
function expectErrorAnswer(
  answer: { status: number; headers: Record<string, string>; body: string },
  status: number,
) {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-security-policy']).toContain("default-src 'none'");
  expect(answer.headers['x-content-type-options']).toBe('nosniff');
  expect(answer.headers['x-frame-options']).toBe('SAMEORIGIN');
  expect(answer.headers['referrer-policy']).toBe('no-referrer');
  expect(answer.headers['content-type']).toMatch(/^text\/html/);
  expect(answer.body).toContain('<h1>');
  expect(answer.body.length).toBeLessThan(2_000);
  expect(answer.body).not.toMatch(/ at .*\.(ts|js):\d+|Error:|FST_|HPE_/);
}

async function viaFetch(path: string, init?: RequestInit): Promise<RawAnswer> {
  const response = await fetch(`${server.url}${path}`, { redirect: 'manual', ...init });
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers as unknown as Iterable<[string, string]>),
    body: await response.text(),
  };
}

describe('error answers carry the security headers and a short page', () => {
  it('bad %-encoding in the path: 400 from fastify itself', async () => {
    expectErrorAnswer(
      await rawRequest(
        server.url,
        `GET /p/%E0%A4%A HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`,
      ),
      400,
    );
  });

  it('a malformed request the HTTP parser refuses: 400 on the socket', async () => {
    expectErrorAnswer(
      await rawRequest(server.url, `GET / HTTP/1.1\r\nHost: ${host()}\r\nNo colon here\r\n\r\n`),
      400,
    );
  });

  it('an address too long: 414, below and above the parser limit', async () => {
    const long = `/archive/${'a'.repeat(6_000)}`;
    expectErrorAnswer(
      await rawRequest(server.url, `GET ${long} HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`),
      414,
    );
    const huge = `/archive?q=${'a'.repeat(20_000)}`;
    expectErrorAnswer(
      await rawRequest(server.url, `GET ${huge} HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`),
      414,
    );
    // A path parameter over fastify's own limit.
    expectErrorAnswer(await viaFetch(`/c/${'x'.repeat(300)}`), 414);
  });

  it('headers too large: 431 on the socket', async () => {
    const filler = Array.from({ length: 40 }, (_, i) => `X-Filler-${i}: ${'b'.repeat(500)}`).join('\r\n');
    expectErrorAnswer(
      await rawRequest(
        server.url,
        `GET /archive HTTP/1.1\r\nHost: ${host()}\r\n${filler}\r\nConnection: close\r\n\r\n`,
      ),
      431,
    );
  });

  it('404 and 413 are short pages too', async () => {
    expectErrorAnswer(await viaFetch('/no-such-page'), 404);
    const token = signToken(secrets, { kind: 'preferences', subscriberId: seed.alice });
    expectErrorAnswer(
      await viaFetch(`/p/${token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `segment=${'1'.repeat(70_000)}`,
      }),
      413,
    );
  });

  it('a malformed multipart body to /u: 400, and the subscriber stays subscribed', async () => {
    const token = signToken(secrets, {
      kind: 'unsubscribe',
      subscriberId: seed.alice,
      issueId: seed.issueId,
    });
    const answer = await viaFetch(`/u/${token}`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=XYZ' },
      body: '--XYZ\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--XY',
    });
    expectErrorAnswer(answer, 400);
    const broken = await viaFetch(`/u/${token}`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data' },
      body: 'not multipart at all',
    });
    expectErrorAnswer(broken, 400);
    const row = await app.db
      .selectFrom('subscribers')
      .select('status')
      .where('id', '=', seed.alice)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('active');
  });

  it('an out-of-range segment id on /p: 400, nothing stored', async () => {
    const token = signToken(secrets, { kind: 'preferences', subscriberId: seed.alice });
    const answer = await viaFetch(`/p/${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'action=save&segment=99999999999&pause_weeks=0',
    });
    expectErrorAnswer(answer, 400);
    const followed = await app.db
      .selectFrom('subscriptions')
      .select('segment_id')
      .where('subscriber_id', '=', seed.alice)
      .execute();
    expect(followed).toHaveLength(2);
  });
});
