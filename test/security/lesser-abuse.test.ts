import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { upsertStories } from '../../src/stories/story.repository.ts';
import { INVALID_RECORD_LIMIT } from '../../src/stories/story-import.ts';
import { signFormStamp } from '../../src/web/form-stamp.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { weekStories } from '../editor/editor-seed.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { createTestApp, SECRET } from '../web/web-fixtures.ts';

// The lesser second-round findings against a real server, a real SMTP server and the test database:
// sign-ups from one IPv6 /64, an encoded word as a story title, a body of endless invalid records.
const INGEST_TOKEN = 'ingest-token-0123456789-abcdefghij';
const EDITOR_TOKEN = 'editor-token-0123456789-abcdefghij';
const WEEK = '2026-W47';
const TEST_RECIPIENT = 'editor@example.com';
/** What an attacker writes as a title: mail clients decode it to "FREE MONEY" when it reaches a header raw. */
const ENCODED_TITLE = '=?utf-8?B?RlJFRSBNT05FWQ==?=';

let app: App;
let sink: SmtpSink;
let server: RunningServer;

beforeAll(async () => {
  sink = await startSmtpSink();
  app = await createTestApp({
    INGEST_TOKEN,
    EDITOR_TOKEN,
    SMTP_URL: sink.url,
    TEST_RECIPIENTS: TEST_RECIPIENT,
    // The test's requests come from loopback and name their client in X-Forwarded-For.
    TRUST_PROXY: '127.0.0.1',
    RECAP_TZ: 'UTC',
    STORIES_PER_SEGMENT: '5',
    MIN_STORIES_PER_SEGMENT: '1',
  });
  const [first] = weekStories();
  if (!first) throw new Error('no story');
  await app.db
    .transaction()
    .execute((trx) => upsertStories(trx, [{ ...first, id: 'encoded-word', title: ENCODED_TITLE }]));
  server = await startServer(app, { port: 0, host: '127.0.0.1', signUpsPerHour: 2 });
});
afterAll(async () => {
  await server?.close();
  await app?.close();
  await sink?.close();
});

const signUpFrom = (ip: string, email: string) =>
  fetch(`${server.url}/subscribe`, {
    method: 'POST',
    headers: { 'x-forwarded-for': ip },
    body: new URLSearchParams({
      email,
      form_stamp: signFormStamp({ current: SECRET, previous: [] }, Date.now() / 1000 - 10),
    }),
  });

describe('lesser abuse', () => {
  it('counts sign-ups from every address of one IPv6 /64 together', async () => {
    const statuses: number[] = [];
    for (const [i, ip] of ['2001:db8:7:1::1', '2001:db8:7:1::2', '2001:db8:7:1:ffff:ffff:ffff:3'].entries())
      statuses.push((await signUpFrom(ip, `v6-${i}@example.org`)).status);
    expect(statuses).toEqual([200, 200, 429]);
    // Another /64, and IPv4 clients, keep their own allowance.
    expect((await signUpFrom('2001:db8:7:2::1', 'v6-other@example.org')).status).toBe(200);
    expect((await signUpFrom('192.0.2.10', 'v4@example.org')).status).toBe(200);
  });

  it('shows a title written as an RFC 2047 encoded word as its literal text in the Subject', async () => {
    const editor = { authorization: `Bearer ${EDITOR_TOKEN}`, origin: server.url };
    const post = (path: string, fields: Record<string, string> = {}) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { ...editor, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      });
    expect((await post(`/editor/issues/${WEEK}/build`)).status).toBe(303);
    const before = sink.messages.length;
    expect((await post(`/editor/issues/${WEEK}/test`, { recipient: TEST_RECIPIENT })).status).toBe(303);
    const test = sink.messages.slice(before).find((m) => m.parsed.subject?.startsWith('[TEST]'));
    expect(test?.parsed.subject).toBe(`[TEST] ${ENCODED_TITLE}`);
    expect(test?.parsed.subject).not.toContain('FREE MONEY');
  });

  it(`stops reading a body once its invalid records pass ${INVALID_RECORD_LIMIT}`, async () => {
    const body = '{"id":"x"}\n'.repeat(INVALID_RECORD_LIMIT * 5);
    const response = await fetch(`${server.url}/api/stories`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${INGEST_TOKEN}` },
      body,
    });
    expect(response.status).toBe(422);
    const answer = (await response.json()) as { error: string; errorCount: number };
    expect(answer.error).toMatch(new RegExp(`^refused after ${INVALID_RECORD_LIMIT} invalid records`));
    expect(answer.errorCount).toBeLessThan(INVALID_RECORD_LIMIT * 5);
    const run = await app.db
      .selectFrom('ingest_runs')
      .selectAll()
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(run.status).toBe('refused');
    expect(run.invalid).toBe(INVALID_RECORD_LIMIT);
  });
});
