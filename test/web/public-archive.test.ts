import { parseFeed } from '@rowanmanning/feed-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { testApp } from '../editor/editor-seed.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { formsOf } from '../support/html-forms.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { EARLIER_WEEK, SENT_KEYS, seedSentIssues, WEEK } from './public-seed.ts';

let t: TestDatabase;
let sink: SmtpSink;
let app: App;
let server: RunningServer;
let privateApp: App;
let privateServer: RunningServer;

beforeAll(async () => {
  t = await createTestDatabase();
  sink = await startSmtpSink();
  await seedSentIssues(t);
  const env = {
    SMTP_URL: sink.url,
    SIGNUP_MIN_FILL_SECONDS: '0',
    RECAP_DESCRIPTION: 'Five AI stories a week for people who build.',
    PRIVACY_URL: 'https://example.org/privacy',
    RECAP_CRON: '0 7 * * 2',
  };
  app = testApp(t, env);
  server = await startServer(app, { port: 0, host: '127.0.0.1', signUpsPerHour: 100 });
  privateApp = testApp(t, { ...env, ARCHIVE_PUBLIC: 'false' });
  privateServer = await startServer(privateApp, { port: 0, host: '127.0.0.1' });
}, 300_000);
afterAll(async () => {
  await server?.close();
  await privateServer?.close();
  await app?.close();
  await privateApp?.close();
  await sink?.close();
  await t?.close();
});

const get = async (path: string, base = server.url) => {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, headers: response.headers, text: await response.text() };
};
const PERSONAL = /You receive|because you subscribed|\/o\/|\/c\/|\/u\/|\/p\/|Hi there|Manage preferences/;

describe('the public archive', () => {
  it('lists sent issues newest first with date range, subject and lead headlines, indexable', async () => {
    const index = await get('/archive');
    expect(index.status).toBe(200);
    expect(index.text).not.toContain('noindex');
    const positions = [WEEK, EARLIER_WEEK].map((week) => index.text.indexOf(`href="/archive/${week}"`));
    expect(positions[0]).toBeGreaterThan(0);
    expect(positions[1]).toBeGreaterThan(positions[0] ?? 0);
    expect(index.text).toContain('16–22 Nov 2026');
    expect(index.text).toMatch(/>[^<]+ and \d+ more</);
    expect(index.text).toContain('Robotics lab opens its grasping dataset');
    // The approved issue is not public.
    expect(index.text).not.toContain('2026-W48');
    expect(index.text).toContain('href="/subscribe"');
    expect(index.text).toContain(`<link rel="canonical" href="http://127.0.0.1:9/archive">`);
    expect(index.text).toContain('href="http://127.0.0.1:9/archive/feed.xml"');
    expect((await get('/archive?page=2')).status).toBe(404);
    expect((await get('/archive?page=0')).status).toBe(400);
    expect((await get('/archive?page=abc')).status).toBe(400);
  });

  it('shows an issue to a visitor: every sent section with anchors, no personal text, links or tracking', async () => {
    const issue = await get(`/archive/${WEEK}`);
    expect(issue.status).toBe(200);
    expect(issue.text).not.toMatch(PERSONAL);
    expect(issue.text).toContain('id="engineers-developers"');
    expect(issue.text).toContain('id="policy-legal"');
    expect(issue.text).toContain('href="#policy-legal"');
    expect(issue.text).toContain('Open model tops coding benchmark');
    expect(issue.text).toContain(`<link rel="canonical" href="http://127.0.0.1:9/archive/${WEEK}">`);
    expect(issue.text).toMatch(/<meta property="og:title" content="(?!Weekly AI Recap:)[^"]+">/);
    expect(issue.text).toMatch(/<meta name="description" content="The AI news of 16–22 Nov 2026: [^"]+">/);
    expect(issue.text).toContain('Free, every Tuesday, by email.');
    expect(issue.text).not.toContain('noindex');
    expect((await get('/archive/2026-W48')).status).toBe(404);
    expect((await get('/archive/not-a-week')).status).toBe(404);
  });

  it('keeps the mailed "view in browser" links, pointing search engines at the issue page', async () => {
    for (const key of SENT_KEYS) {
      const copy = await get(`/archive/${WEEK}/${key}`);
      expect(copy.status).toBe(200);
      expect(copy.text).toContain(`<link rel="canonical" href="http://127.0.0.1:9/archive/${WEEK}">`);
      expect(copy.text).not.toMatch(PERSONAL);
      expect(copy.text).toContain('This edition of Weekly AI Recap was written for');
      expect(copy.text).toContain('href="/subscribe"');
    }
    expect((await get(`/archive/${WEEK}/policy-legal`)).status).toBe(404);
  });

  it('publishes an Atom feed with one entry per sent issue', async () => {
    const feed = await get('/archive/feed.xml');
    expect(feed.status).toBe(200);
    expect(feed.headers.get('content-type')).toContain('application/atom+xml');
    const parsed = parseFeed(feed.text);
    expect(parsed.meta.type).toBe('atom');
    expect(parsed.title).toBe('Weekly AI Recap');
    expect(parsed.items.map((item) => item.url)).toEqual([
      `http://127.0.0.1:9/archive/${WEEK}`,
      `http://127.0.0.1:9/archive/${EARLIER_WEEK}`,
    ]);
    expect(parsed.items[0]?.title).toMatch(/^(?!Weekly AI Recap:)\S/);
    expect(parsed.items[0]?.published?.toISOString()).toBe('2026-11-23T08:00:00.000Z');
  });

  it('with ARCHIVE_PUBLIC=false: no index or feed, issue pages reachable but noindex', async () => {
    expect((await get('/archive', privateServer.url)).status).toBe(404);
    expect((await get('/archive/feed.xml', privateServer.url)).status).toBe(404);
    const issue = await get(`/archive/${WEEK}`, privateServer.url);
    expect(issue.status).toBe(200);
    expect(issue.text).toContain('<meta name="robots" content="noindex">');
    expect(issue.text).not.toContain('feed.xml');
    const copy = await get(`/archive/${WEEK}/${SENT_KEYS[0]}`, privateServer.url);
    expect(copy.text).toContain('<meta name="robots" content="noindex">');
    expect((await get('/subscribe', privateServer.url)).text).toContain('noindex');
  });
});

/** Posts a page's first form as a browser would, with `change` applied to its fields. */
async function submit(page: string, change: (fields: URLSearchParams) => void, base = server.url) {
  const form = formsOf(page)[0];
  if (!form) throw new Error('no form on the page');
  const body = new URLSearchParams(form.fields);
  change(body);
  const response = await fetch(`${base}${form.action}`, { method: 'POST', body });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The sign-up requests recorded for an address (one per confirmation mail handed over). */
async function requests(email: string): Promise<number> {
  const rows = await t.db
    .selectFrom('consent_log')
    .innerJoin('subscribers', 'subscribers.id', 'consent_log.subscriber_id')
    .where('subscribers.email', '=', email)
    .where('consent_log.action', '=', 'signup-requested')
    .select('consent_log.id')
    .execute();
  return rows.length;
}

describe('the sign-up page', () => {
  it('says what the recap is, when it comes, links the latest issue and the privacy notice', async () => {
    const page = await get('/subscribe');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Five AI stories a week for people who build.');
    expect(page.text).toContain('Free, every Tuesday, by email.');
    expect(page.text).toContain(`<a href="/archive/${WEEK}">Read the latest issue</a> (16–22 Nov 2026)`);
    expect(page.text).toContain('href="https://example.org/privacy"');
    expect(page.text).not.toContain('noindex');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'self'");
  });

  it('refuses a form that showed topics and got none back, keeping what was typed', async () => {
    const page = (await get('/subscribe')).text;
    const answer = await submit(page, (fields) => {
      fields.delete('segment');
      fields.set('email', 'no-topics@example.org');
    });
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('Choose at least one topic');
    expect(answer.text).toContain('value="no-topics@example.org"');
    expect(
      await t.db
        .selectFrom('subscribers')
        .where('email', '=', 'no-topics@example.org')
        .select('id')
        .execute(),
    ).toEqual([]);
  });

  it('keeps "every topic" for an API client that sends no segment field at all', async () => {
    const page = (await get('/subscribe')).text;
    const stamp = /name="form_stamp" value="([^"]+)"/.exec(page)?.[1] ?? '';
    const answer = await fetch(`${server.url}/subscribe`, {
      method: 'POST',
      body: new URLSearchParams({ email: 'api-client@example.org', form_stamp: stamp }),
    });
    expect(answer.status).toBe(200);
    const log = await t.db
      .selectFrom('consent_log')
      .innerJoin('subscribers', 'subscribers.id', 'consent_log.subscriber_id')
      .where('subscribers.email', '=', 'api-client@example.org')
      .select('detail')
      .executeTakeFirstOrThrow();
    expect((log.detail as { segmentIds: number[] }).segmentIds).toHaveLength(2);
  });

  it('"Check your inbox" names the address and sender, hints at spam, and resends within the limit', async () => {
    const page = (await get('/subscribe')).text;
    const mailed = () => sink.messages.filter((m) => m.envelopeTo.includes('resend@example.org')).length;
    const answer = await submit(page, (fields) => fields.set('email', 'resend@example.org'));
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('<strong>resend@example.org</strong>');
    expect(answer.text).toContain('Weekly AI Recap</strong> &lt;recap@localhost.localdomain&gt;');
    expect(answer.text).toContain('Confirm your Weekly AI Recap subscription');
    expect(answer.text).toMatch(/spam/i);
    await expect.poll(mailed, { timeout: 20_000 }).toBe(1);
    // The resend button sends the same request: the per-address limit (10 minutes) holds it back.
    const resent = await submit(answer.text, () => {});
    expect(resent.status).toBe(200);
    expect(resent.text).toContain('If a new link could be sent, it is on its way.');
    expect(resent.text).toContain('every 10 minutes');
    // Held back: no second request was recorded, so no second mail was handed over.
    expect(await requests('resend@example.org')).toBe(1);
    // Once the interval has passed, the same button mails a new link.
    await t.db
      .updateTable('subscribers')
      .set({ confirmation_sent_at: new Date(Date.now() - 3_600_000) })
      .where('email', '=', 'resend@example.org')
      .execute();
    await submit(answer.text, () => {});
    await expect.poll(mailed, { timeout: 20_000 }).toBe(2);
  });

  it('can be framed by another site only in its embed view, which stays embedded after submitting', async () => {
    const embed = await get('/subscribe?embed=1');
    expect(embed.status).toBe(200);
    expect(embed.headers.get('content-security-policy')).toContain('frame-ancestors *');
    expect(embed.headers.get('x-frame-options')).toBeNull();
    expect(embed.text).toContain('action="/subscribe?embed=1"');
    expect(embed.text).toContain('noindex');
    expect(embed.text).toContain('target="_blank"');
    const answer = await submit(embed.text, (fields) => fields.set('email', 'embedded@example.org'));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-security-policy')).toContain('frame-ancestors *');
    expect(answer.text).toContain('Check your inbox');
    const plain = await get('/subscribe');
    expect(plain.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });
});
