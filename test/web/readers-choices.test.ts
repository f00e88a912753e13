import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import type { Mailer } from '../../src/mail/mailer.ts';
import { createSmtpMailer } from '../../src/mail/smtp-mailer.ts';
import { erasedAddressHash } from '../../src/subscribers/erasure.ts';
import { signToken } from '../../src/tracking/token.ts';
import { TRACKING_CHOICE_TEXT } from '../../src/web/preferences-routes.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { SIGNUP_TRACKING_TEXT } from '../../src/web/signup-pages.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { createTestApp, SECRET, type Seeded, seedIssue } from './web-fixtures.ts';

let app: App;
let server: RunningServer;
let sink: SmtpSink;
let mailer: Mailer;
let seed: Seeded;
const secrets = { current: SECRET, previous: [] };

beforeAll(async () => {
  app = await createTestApp({ TRACKING_DEFAULT: 'false', SIGNUP_MIN_FILL_SECONDS: '0' });
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

const preferencesUrl = (id: string) =>
  `${server.url}/p/${signToken(secrets, { kind: 'preferences', subscriberId: id })}`;
const form = (url: string, body: Record<string, string | string[]>) => {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(body))
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, v);
  return fetch(url, { method: 'POST', body: params, redirect: 'manual' });
};
/** Posts the sign-up form as a browser does: with the signed stamp of a freshly served form. */
const signUp = async (body: Record<string, string>) => {
  const page = await (await fetch(`${server.url}/subscribe`)).text();
  const stamp = /name="form_stamp" value="([^"]+)"/.exec(page)?.[1] ?? '';
  return form(`${server.url}/subscribe`, { ...body, form_stamp: stamp });
};
/** The confirmation is mailed after the answer: wait (up to 5 s) until the sink holds one to `to`. */
const mailTo = async (to: string) => {
  for (let i = 0; i < 200 && !sink.messages.some((m) => m.envelopeTo.includes(to)); i++)
    await new Promise((resolve) => setTimeout(resolve, 25));
  return sink.messages.find((m) => m.envelopeTo.includes(to));
};
const trackingOf = async (id: string) =>
  (
    await app.db
      .selectFrom('subscribers')
      .select('tracking_enabled')
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
  ).tracking_enabled;

describe('the reader decides', () => {
  it('sign-up offers "Count my opens and clicks" unticked under TRACKING_DEFAULT=false; confirming applies the choice', async () => {
    const page = await (await fetch(`${server.url}/subscribe`)).text();
    expect(page).toContain(SIGNUP_TRACKING_TEXT);
    expect(page).toMatch(/name="tracking" value="yes">/);
    const answer = await signUp({
      email: 'dana@example.org',
      segment: 'engineers',
      tracking: 'yes',
      tracking_shown: 'yes',
    });
    expect(answer.status).toBe(200);
    const mail = await mailTo('dana@example.org');
    const confirm = /\/confirm\/\S+/.exec(mail?.parsed.text ?? '')?.[0] as string;
    expect((await fetch(`${server.url}${confirm}`, { method: 'POST' })).status).toBe(200);
    const dana = await app.db
      .selectFrom('subscribers')
      .select(['id', 'tracking_enabled', 'status'])
      .where('email', '=', 'dana@example.org')
      .executeTakeFirstOrThrow();
    expect(dana).toMatchObject({ status: 'active', tracking_enabled: true });
    const log = await app.db
      .selectFrom('consent_log')
      .select(['action', 'detail'])
      .where('subscriber_id', '=', dana.id)
      .orderBy('id')
      .execute();
    expect(log[0]).toMatchObject({
      action: 'signup-requested',
      detail: { tracking: true, shown: { tracking: SIGNUP_TRACKING_TEXT } },
    });
    expect(log[1]).toMatchObject({ action: 'confirm', detail: { tracking: true } });
  });

  it('the preference centre turns tracking off and on, each change in the consent log with the wording shown', async () => {
    const url = preferencesUrl(seed.alice);
    const page = await (await fetch(url)).text();
    expect(page).toContain(TRACKING_CHOICE_TEXT);
    expect(page).toMatch(/name="tracking" value="yes" checked>/);
    const segment = String(seed.segments[0]?.id);
    expect(
      (await form(url, { action: 'save', segment, pause_weeks: '0', tracking_shown: 'yes' })).status,
    ).toBe(200);
    expect(await trackingOf(seed.alice)).toBe(false);
    // A form that did not show the choice (an old page) leaves it alone.
    await form(url, { action: 'save', segment, pause_weeks: '0' });
    expect(await trackingOf(seed.alice)).toBe(false);
    await form(url, { action: 'save', segment, pause_weeks: '0', tracking_shown: 'yes', tracking: 'yes' });
    expect(await trackingOf(seed.alice)).toBe(true);
    const changes = await app.db
      .selectFrom('consent_log')
      .select(['action', 'detail', 'ip'])
      .where('subscriber_id', '=', seed.alice)
      .where('action', 'like', 'tracking-%')
      .orderBy('id')
      .execute();
    expect(changes).toEqual([
      {
        action: 'tracking-off',
        ip: '127.0.0.1',
        detail: { source: 'web', tracking: false, shown: TRACKING_CHOICE_TEXT },
      },
      {
        action: 'tracking-on',
        ip: '127.0.0.1',
        detail: { source: 'web', tracking: true, shown: TRACKING_CHOICE_TEXT },
      },
    ]);
  });

  it('"download my data" is a POST that returns the JSON export; a forged token gets 404', async () => {
    const url = `${preferencesUrl(seed.alice)}/export`;
    expect((await fetch(url)).status).toBe(404);
    const response = await form(url, {});
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toContain('attachment');
    const data = await response.json();
    expect(data.subscriber.email).toBe('alice@example.org');
    expect(Object.keys(data)).toEqual(
      expect.arrayContaining(['subscriber', 'subscriptions', 'consent_log', 'deliveries', 'tracking_events']),
    );
    expect(data.deliveries).toHaveLength(1);
    expect((await form(`${server.url}/p/p.1.x.x.x.AAAAAAAAAAAAAAAA/export`, {})).status).toBe(404);
  });

  it('"delete me" asks first, erases only on a confirmed POST, and says so again on a second click', async () => {
    const url = `${preferencesUrl(seed.bob)}/delete`;
    const ask = await fetch(url);
    expect(ask.status).toBe(200);
    const page = await ask.text();
    expect(page).toContain('<form method="post"');
    expect(page).toContain('name="confirm"');
    expect(page).not.toContain('bob@example.org');
    const bob = () =>
      app.db.selectFrom('subscribers').select('id').where('email', '=', 'bob@example.org').execute();
    expect(await bob()).toHaveLength(1);
    expect((await form(url, {})).status).toBe(400);
    expect(await bob()).toHaveLength(1);
    const done = await form(url, { confirm: 'yes' });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('erased');
    expect(await bob()).toHaveLength(0);
    expect(
      await app.db
        .selectFrom('erased_addresses')
        .select('hash')
        .where('hash', '=', erasedAddressHash('bob@example.org'))
        .execute(),
    ).toHaveLength(1);
    const again = await form(url, { confirm: 'yes' });
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('Nothing is stored about you');
    // The preference link of an erased reader leads nowhere.
    expect((await fetch(preferencesUrl(seed.bob))).status).toBe(404);
    // Signing up again from the form is refused silently (the page is the same for every address).
    const before = sink.messages.length;
    expect((await signUp({ email: 'bob@example.org' })).status).toBe(200);
    // A later sign-up, mailed after its answer too, marks when mailing has caught up.
    expect((await signUp({ email: 'erin@example.org' })).status).toBe(200);
    expect(await mailTo('erin@example.org')).toBeTruthy();
    expect(sink.messages.filter((m) => m.envelopeTo.includes('bob@example.org')).length).toBe(0);
    expect(sink.messages.length).toBe(before + 1);
  });
});
