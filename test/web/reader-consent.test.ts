import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import type { Mailer } from '../../src/mail/mailer.ts';
import { createSmtpMailer } from '../../src/mail/smtp-mailer.ts';
import { signToken } from '../../src/tracking/token.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { createTestApp, SECRET, type Seeded, seedIssue } from './web-fixtures.ts';

// With the default TRACKING_DEFAULT=true: what a reader is asked, and that nothing changes behind their back.
let app: App;
let server: RunningServer;
let sink: SmtpSink;
let mailer: Mailer;
let seed: Seeded;
const secrets = { current: SECRET, previous: [] };

beforeAll(async () => {
  app = await createTestApp({ SIGNUP_MIN_FILL_SECONDS: '0' });
  seed = await seedIssue(app.db);
  sink = await startSmtpSink();
  mailer = createSmtpMailer({ url: sink.url, maxConnections: 1 });
  server = await startServer({ ...app, mailer }, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server?.close();
  await mailer?.close();
  await sink?.close();
  await app?.close();
});

const post = (url: string, body: Array<[string, string]>) =>
  fetch(url, { method: 'POST', body: new URLSearchParams(body), redirect: 'manual' });
const signUp = async (body: Array<[string, string]>) => {
  const page = await (await fetch(`${server.url}/subscribe`)).text();
  const stamp = /name="form_stamp" value="([^"]+)"/.exec(page)?.[1] ?? '';
  return post(`${server.url}/subscribe`, [...body, ['form_stamp', stamp]]);
};
const confirmLinkTo = async (to: string) => {
  for (let i = 0; i < 200 && !sink.messages.some((m) => m.envelopeTo.includes(to)); i++)
    await new Promise((resolve) => setTimeout(resolve, 25));
  const mail = sink.messages.find((m) => m.envelopeTo.includes(to));
  return /http:\/\/recap\.test(\/confirm\/[^\s"<]+)/.exec(mail?.parsed.text ?? '')?.[1] ?? '';
};
const subscriber = (email: string) =>
  app.db
    .selectFrom('subscribers')
    .select(['id', 'status', 'tracking_enabled', 'paused_until'])
    .where('email', '=', email)
    .executeTakeFirstOrThrow();
const preferencesUrl = (id: string) =>
  `${server.url}/p/${signToken(secrets, { kind: 'preferences', subscriberId: id })}`;
const pausedUntil = async (id: string) =>
  (
    await app.db
      .selectFrom('subscribers')
      .select('paused_until')
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
  ).paused_until;
/** The entry the pause menu starts on (what a browser would submit untouched). */
const selectedPause = (page: string) =>
  /<select name="pause_weeks">[\s\S]*?<option value="([^"]+)" selected>([^<]*)<\/option>/
    .exec(page)
    ?.slice(1);

describe('consent at sign-up', () => {
  it('the "Count my opens and clicks" box is never pre-ticked, even with TRACKING_DEFAULT=true', async () => {
    expect(app.config.trackingDefault).toBe(true);
    const page = await (await fetch(`${server.url}/subscribe`)).text();
    const box = /<input type="checkbox" name="tracking"[^>]*>/.exec(page)?.[0];
    expect(box).toBeDefined();
    expect(box).not.toContain('checked');
  });

  it('a POST without tracking_shown (an API call, an old form) is untracked once confirmed', async () => {
    expect((await signUp([['email', 'erin@example.org']])).status).toBe(200);
    const link = await confirmLinkTo('erin@example.org');
    expect(link).not.toBe('');
    expect((await fetch(`${server.url}${link}`, { method: 'POST' })).status).toBe(200);
    expect(await subscriber('erin@example.org')).toMatchObject({ status: 'active', tracking_enabled: false });
    const requested = await app.db
      .selectFrom('consent_log')
      .innerJoin('subscribers', 'subscribers.id', 'consent_log.subscriber_id')
      .select('detail')
      .where('email', '=', 'erin@example.org')
      .where('action', '=', 'signup-requested')
      .executeTakeFirstOrThrow();
    expect(requested.detail).toMatchObject({
      tracking: false,
      shown: { tracking: '(not shown: untracked)' },
    });
  });

  it('the form as sent by a browser with the box left alone is untracked; ticked is tracked', async () => {
    await signUp([
      ['email', 'finn@example.org'],
      ['tracking_shown', 'yes'],
    ]);
    await signUp([
      ['email', 'gail@example.org'],
      ['tracking_shown', 'yes'],
      ['tracking', 'yes'],
    ]);
    for (const email of ['finn@example.org', 'gail@example.org'])
      await fetch(`${server.url}${await confirmLinkTo(email)}`, { method: 'POST' });
    expect((await subscriber('finn@example.org')).tracking_enabled).toBe(false);
    expect((await subscriber('gail@example.org')).tracking_enabled).toBe(true);
  });

  it('a GET or HEAD of the confirmation link (a link scanner) leaves the address pending', async () => {
    await signUp([['email', 'hugo@example.org']]);
    const link = await confirmLinkTo('hugo@example.org');
    expect((await fetch(`${server.url}${link}`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${server.url}${link}`)).status).toBe(200);
    expect((await subscriber('hugo@example.org')).status).toBe('pending');
    const actions = await app.db
      .selectFrom('consent_log')
      .innerJoin('subscribers', 'subscribers.id', 'consent_log.subscriber_id')
      .select('action')
      .where('email', '=', 'hugo@example.org')
      .execute();
    expect(actions.map((a) => a.action)).toEqual(['signup-requested']);
  });
});

describe('the pause on the preference page', () => {
  it('shows the stored pause after "pause for 4 weeks", and saving topics or tracking keeps it', async () => {
    const url = preferencesUrl(seed.alice);
    const segment = String(seed.segments[0]?.id);
    expect(selectedPause(await (await fetch(url)).text())).toEqual(['0', 'no pause']);
    await post(url, [
      ['action', 'save'],
      ['segment', segment],
      ['pause_weeks', '4'],
      ['tracking_shown', 'yes'],
      ['tracking', 'yes'],
    ]);
    const paused = await pausedUntil(seed.alice);
    expect(paused).toBeInstanceOf(Date);
    const day = paused?.toISOString().slice(0, 10) ?? '';
    const page = await (await fetch(url)).text();
    expect(page).toContain(`Paused until ${day}.`);
    expect(selectedPause(page)).toEqual(['keep', `paused until ${day}`]);

    // The reader changes only the topics and the tracking box; the menu is submitted as it was shown.
    const saved = await post(url, [
      ['action', 'save'],
      ['segment', segment],
      ['segment', String(seed.segments[1]?.id)],
      ['pause_weeks', 'keep'],
      ['tracking_shown', 'yes'],
    ]);
    expect(saved.status).toBe(200);
    expect(selectedPause(await saved.text())).toEqual(['keep', `paused until ${day}`]);
    expect((await pausedUntil(seed.alice))?.getTime()).toBe(paused?.getTime());
    // A form without the menu at all keeps it too.
    await post(url, [
      ['action', 'save'],
      ['segment', segment],
    ]);
    expect((await pausedUntil(seed.alice))?.getTime()).toBe(paused?.getTime());

    // Choosing "no pause" is the reader's change: it resumes now.
    await post(url, [
      ['action', 'save'],
      ['segment', segment],
      ['pause_weeks', '0'],
    ]);
    expect(await pausedUntil(seed.alice)).toBeNull();
  });

  it('a reader paused for inactivity still comes back on save, keeping a pause they set', async () => {
    const pause = new Date(Date.now() + 14 * 86_400_000);
    await app.db
      .updateTable('subscribers')
      .set({ status: 'sunset', sunset_at: new Date(), paused_until: pause })
      .where('id', '=', seed.bob)
      .execute();
    await post(preferencesUrl(seed.bob), [
      ['action', 'save'],
      ['segment', String(seed.segments[0]?.id)],
      ['pause_weeks', 'keep'],
    ]);
    expect(await subscriber('bob@example.org')).toMatchObject({ status: 'active', paused_until: pause });
  });
});
