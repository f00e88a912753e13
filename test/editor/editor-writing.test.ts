import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { ensureSegments } from '../../src/stories/story.repository.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { editorFetch } from '../support/editor-fetch.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { seedWeek, TEST_RECIPIENT, testApp, WEEK } from './editor-seed.ts';

// The issue page's writing (note, subject, preheader, inbox preview) and its approval review, over
// real HTTP, with the test send read back from a real SMTP server.
let t: TestDatabase;
let sink: SmtpSink;
let app: App;
let server: RunningServer;

beforeAll(async () => {
  t = await createTestDatabase();
  sink = await startSmtpSink();
  await seedWeek(t);
  // Monday 08:00 Berlin; "now" is Sunday 22 Nov 2026, so 2026-W47 goes out the next morning.
  app = testApp(t, { SMTP_URL: sink.url, RECAP_TZ: 'Europe/Berlin', RECAP_CRON: '0 8 * * 1' });
  server = await startServer(app, {
    port: 0,
    host: '127.0.0.1',
    now: () => new Date('2026-11-22T10:00:00Z'),
  });
});
afterAll(async () => {
  await server?.close();
  await app?.close();
  await sink?.close();
  await t?.close();
});

const fetch = editorFetch(() => server.editor.token);

function post(path: string, fields: Record<string, string> = {}) {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url },
    body: new URLSearchParams(fields).toString(),
  });
}

function said(response: Response): string {
  const params = new URL(response.headers.get('location') ?? '/', 'http://x').searchParams;
  return `${params.get('notice') ?? ''}${params.get('error') ? `error=${params.get('error')}` : ''}`;
}

const page = async () => (await fetch(`${server.url}/editor/issues/${WEEK}`)).text();
const status = async () =>
  (await t.db.selectFrom('issues').select('status').where('week', '=', WEEK).executeTakeFirstOrThrow())
    .status;

const NOTE = 'Short week, long reads.\n\nOur method: [how we pick](https://recap.example.org/method).';
const SUBJECT = 'Chips, audits and cheaper inference';
const PREHEADER = 'Six stories for builders and policy people, three minutes';

describe('writing on the issue page', () => {
  it('saves the note, subject and preheader from a plain form and shows them in the preview and the inbox', async () => {
    expect((await post(`/editor/issues/${WEEK}/build`)).status).toBe(303);
    const before = await page();
    expect(before).toContain('id="note"');
    expect(before).toContain('data-client="gmail-phone"');
    const saved = await post(`/editor/issues/${WEEK}/writing`, {
      note: NOTE,
      subject: SUBJECT,
      preheader: PREHEADER,
    });
    expect(saved.status).toBe(303);
    expect(said(saved)).toContain('Saved the note and subject');
    const after = await page();
    expect(after).toContain(`id="subject">${SUBJECT}</strong>`);
    expect(after).toContain('Short week, long reads.');
    // Gmail on a phone shows 32 characters of the subject, Apple Mail on an iPhone 34.
    expect(after).toMatch(
      /data-client="gmail-phone"[\s\S]*?<span class="inbox-subject">Chips, audits and cheaper infer…<\/span>/,
    );
    expect(after).toMatch(
      /data-client="apple-phone"[\s\S]*?<span class="inbox-subject">Chips, audits and cheaper inference<\/span>/,
    );
    expect(after).toMatch(/data-client="gmail-desktop"[\s\S]*?<span class="inbox-preheader"> - Six stories/);
    const email = await (await fetch(`${server.url}/editor/issues/${WEEK}/email`)).text();
    expect(email).toContain('Short week, long reads.');
    expect(email).toContain('href="https://recap.example.org/method"');
  });

  it('refuses a subject that is too long with a message, not a 5xx', async () => {
    const refused = await post(`/editor/issues/${WEEK}/writing`, { note: '', subject: 'x'.repeat(201) });
    expect(refused.status).toBe(303);
    expect(said(refused)).toBe('error=The subject is 201 characters; at most 200.');
  });

  it('sends the note and the subject in a test that arrives at the SMTP server (HTML and text)', async () => {
    const before = sink.messages.length;
    expect((await post(`/editor/issues/${WEEK}/test`, { recipient: TEST_RECIPIENT })).status).toBe(303);
    const test = sink.messages.slice(before).find((m) => m.parsed.subject?.startsWith('[TEST]'))?.parsed;
    expect(test?.subject).toBe(`[TEST] ${SUBJECT}`);
    expect(test?.text).toContain('Short week, long reads.');
    expect(test?.text).toContain('Our method: how we pick\nhttps://recap.example.org/method\n');
    expect(String(test?.html)).toContain(PREHEADER);
    expect(String(test?.html)).toMatch(
      /<a href="https:\/\/recap\.example\.org\/method"[^>]*>how we pick<\/a>/,
    );
  });
});

describe('approval as a review step', () => {
  it('lists each segment set with readers, stories and read time, and says when the issue goes out', async () => {
    await ensureSegments(t.db, ['Astronomers']);
    await post(`/editor/issues/${WEEK}/build`);
    const html = await page();
    expect(html).toMatch(
      /<tr data-segments="engineers-developers"><td data-label="Segment set">Engineers &amp; Developers<\/td><td class="num" data-label="Readers">2<\/td><td class="num" data-label="Stories">\d+<\/td><td class="num" data-label="Read time">\d min<\/td>/,
    );
    expect(html).toContain('No stories for Astronomers.');
    expect(html).toContain('Approve — goes out Mon 23 Nov, 08:00 Europe/Berlin (in 21 hours)');
    // The weeks list: dates, lead headline, state and when the week goes out.
    const weeks = await (await fetch(`${server.url}/`)).text();
    const row = weeks.split(`<tr data-week="${WEEK}">`)[1]?.split('</tr>')[0] ?? '';
    expect(row).toContain('<span class="muted week-range">16–22 Nov 2026</span>');
    expect(row).toMatch(/<td class="lead">[A-Z][^<]+<\/td>/);
    expect(row).toContain('<td class="goes-out">Mon 23 Nov, 08:00 Europe/Berlin (in 21 hours)</td>');
  });

  it('refuses an empty segment, then a ticked box without a reason, and approves with both', async () => {
    const refused = await post(`/editor/issues/${WEEK}/approve`);
    expect(said(refused)).toContain('"Astronomers" has no stories');
    expect(await status()).toBe('draft');
    const noReason = await post(`/editor/issues/${WEEK}/approve`, { allow_empty: 'on', empty_reason: ' ' });
    expect(said(noReason)).toBe(
      'error=Say why the empty segments are acceptable (the reason is kept with the issue).',
    );
    expect(await status()).toBe('draft');
    const approved = await post(`/editor/issues/${WEEK}/approve`, {
      allow_empty: 'on',
      empty_reason: 'no astronomy this week',
    });
    expect(said(approved)).toContain('goes out Mon 23 Nov, 08:00 Europe/Berlin (in 21 hours)');
    expect(await status()).toBe('approved');
    const html = await page();
    expect(html).toContain('id="back-to-draft"');
    expect(html).toContain('id="writing-frozen"');
  });

  it('refuses to change the writing of an approved issue, then Back to draft allows it again', async () => {
    const refused = await post(`/editor/issues/${WEEK}/writing`, {
      note: 'changed',
      subject: '',
      preheader: '',
    });
    expect(said(refused)).toBe(
      `error=issue ${WEEK} is approved: its note and subject are frozen with it; return it to draft first (Back to draft in the editor, or: recap issue unapprove --week ${WEEK})`,
    );
    const stored = await t.db.selectFrom('issue_writing').select('note').executeTakeFirstOrThrow();
    expect(stored.note).toBe(NOTE);
    const back = await post(`/editor/issues/${WEEK}/unapprove`);
    expect(said(back)).toContain('is a draft again');
    expect(await status()).toBe('draft');
    const again = await post(`/editor/issues/${WEEK}/writing`, {
      note: 'changed',
      subject: '',
      preheader: '',
    });
    expect(said(again)).toContain('Saved');
    const twice = await post(`/editor/issues/${WEEK}/unapprove`);
    expect(said(twice)).toBe(`error=issue ${WEEK} is already a draft`);
  });
});
