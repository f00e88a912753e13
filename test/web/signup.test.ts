import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { UserError } from '../../src/errors.ts';
import type { Mailer } from '../../src/mail/mailer.ts';
import { createSmtpMailer } from '../../src/mail/smtp-mailer.ts';
import { signToken } from '../../src/tracking/token.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { createTestApp, SECRET } from './web-fixtures.ts';

let app: App;
let server: RunningServer;
let sink: SmtpSink;
let mailer: Mailer;
const secrets = { current: SECRET, previous: [] };
const templatesDir = fileURLToPath(new URL('../../templates/', import.meta.url));

beforeAll(async () => {
  app = await createTestApp({ SIGNUP_MIN_FILL_SECONDS: '0' });
  await app.db
    .insertInto('segments')
    .values([
      { name: 'Engineers', slug: 'engineers' },
      { name: 'Founders', slug: 'founders' },
    ])
    .execute();
  sink = await startSmtpSink();
  mailer = createSmtpMailer({ url: sink.url, maxConnections: 1 });
  server = await startServer({ ...app, mailer }, { port: 0, host: '127.0.0.1', signUpsPerHour: 5 });
});
afterAll(async () => {
  await server?.close();
  await mailer?.close();
  await sink?.close();
  await app?.close();
});

/** Posts the form as a browser does: with the signed stamp of a freshly served form. */
const subscribe = async (body: URLSearchParams, base = server.url) => {
  const form = await (await fetch(`${base}/subscribe`)).text();
  body.set('form_stamp', /name="form_stamp" value="([^"]+)"/.exec(form)?.[1] ?? '');
  return fetch(`${base}/subscribe`, { method: 'POST', body });
};
/** Mails sent after an answer (welcome, goodbye): wait until the sink holds a message to `to`. */
const mailTo = async (to: string) => {
  for (let i = 0; i < 200 && !sink.messages.some((m) => m.envelopeTo.includes(to)); i++)
    await new Promise((resolve) => setTimeout(resolve, 25));
  return sink.messages.find((m) => m.envelopeTo.includes(to));
};
const subscriberByEmail = (email: string) =>
  app.db.selectFrom('subscribers').selectAll().where('email', '=', email).executeTakeFirst();

describe('double opt-in sign-up', () => {
  it('shows the form with every segment', async () => {
    const page = await (await fetch(`${server.url}/subscribe`)).text();
    expect(page).toContain('name="email"');
    expect(page).toContain('value="engineers"');
    expect(page).toContain('value="founders"');
  });

  it('creates a pending subscriber, mails a confirmation link, and activates it on POST /confirm only', async () => {
    const response = await subscribe(
      new URLSearchParams([
        ['email', ' Carol@Example.org '],
        ['segment', 'founders'],
      ]),
    );
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('confirmation link');
    const pending = await subscriberByEmail('carol@example.org');
    expect(pending?.status).toBe('pending');
    const mail = await mailTo('carol@example.org');
    expect(mail).toBeDefined();
    expect(mail?.parsed.text).toContain('Founders');
    expect(mail?.parsed.html).toContain('/confirm/v.');
    const link = /http:\/\/recap\.test(\/confirm\/[^\s"<]+)/.exec(mail?.parsed.text ?? '')?.[1];
    expect(link).toBeDefined();
    const requested = await app.db
      .selectFrom('consent_log')
      .selectAll()
      .where('subscriber_id', '=', pending?.id ?? '')
      .execute();
    expect(requested.map((c) => c.action)).toEqual(['signup-requested']);
    expect(requested[0]?.ip).toBe('127.0.0.1');
    expect(requested[0]?.detail).toMatchObject({ source: 'web', shown: { segments: 'Founders' } });

    // A mail gateway's scanner GETs and HEADs every link: the page shows a button and nothing changes.
    expect((await fetch(`${server.url}${link}`, { method: 'HEAD' })).status).toBe(200);
    const page = await fetch(`${server.url}${link}`);
    expect(page.status).toBe(200);
    const pageText = await page.text();
    expect(pageText).toContain(`<form method="post" action="${link}">`);
    expect(pageText).toContain('<button type="submit">Confirm my subscription</button>');
    expect((await subscriberByEmail('carol@example.org'))?.status).toBe('pending');
    expect(sink.messages.filter((m) => m.envelopeTo.includes('carol@example.org'))).toHaveLength(1);

    // The button: a plain form POST of the link, no JavaScript, no body needed.
    const confirmed = await fetch(`${server.url}${link}`, { method: 'POST' });
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).toContain('You are subscribed');
    const active = await subscriberByEmail('carol@example.org');
    expect(active?.status).toBe('active');
    expect(active?.confirmed_at).toBeInstanceOf(Date);
    const segments = await app.db
      .selectFrom('subscriptions')
      .innerJoin('segments', 'segments.id', 'subscriptions.segment_id')
      .select('slug')
      .where('subscriber_id', '=', active?.id ?? '')
      .execute();
    expect(segments.map((s) => s.slug)).toEqual(['founders']);
    const welcome = sink.messages.filter((m) => m.envelopeTo.includes('carol@example.org'));
    expect(welcome).toHaveLength(2);
    expect(welcome[1]?.parsed.text).toContain('Founders');
    expect(welcome[1]?.parsed.text).toMatch(/http:\/\/recap\.test\/p\/p\./);
    expect((await fetch(`${server.url}${link}`, { method: 'POST' })).status).toBe(200);
    expect(await (await fetch(`${server.url}${link}`)).text()).toContain('You are subscribed');
    expect(sink.messages.filter((m) => m.envelopeTo.includes('carol@example.org'))).toHaveLength(2);
    const actions = await app.db
      .selectFrom('consent_log')
      .select('action')
      .where('subscriber_id', '=', active?.id ?? '')
      .execute();
    expect(actions.map((a) => a.action)).toEqual(['signup-requested', 'confirm']);
  });

  it('refuses expired, forged and swapped confirmation tokens', async () => {
    await subscribe(new URLSearchParams({ email: 'dave@example.org', segment: 'engineers' }));
    const dave = await subscriberByEmail('dave@example.org');
    const id = dave?.id ?? '';
    const expired = signToken(secrets, {
      kind: 'confirm',
      subscriberId: id,
      expiresAt: Math.floor(Date.now() / 1000) - 10,
    });
    const valid = signToken(secrets, {
      kind: 'confirm',
      subscriberId: id,
      expiresAt: Math.floor(Date.now() / 1000) + 600,
    });
    const carol = await subscriberByEmail('carol@example.org');
    const swapped = valid.replace(`v.${id}.`, `v.${carol?.id}.`);
    const noExpiry = signToken(secrets, { kind: 'confirm', subscriberId: id });
    for (const token of [expired, swapped, valid.slice(0, -1), noExpiry]) {
      expect((await fetch(`${server.url}/confirm/${token}`)).status, token).toBe(404);
      expect((await fetch(`${server.url}/confirm/${token}`, { method: 'POST' })).status, token).toBe(404);
    }
    expect((await subscriberByEmail('dave@example.org'))?.status).toBe('pending');
  });

  it('answers a bad address with 400 and an active address without mailing it again', async () => {
    expect((await subscribe(new URLSearchParams({ email: 'not-an-address' }))).status).toBe(400);
    await mailTo('dave@example.org');
    const toCarol = () => sink.messages.filter((m) => m.envelopeTo.includes('carol@example.org')).length;
    const before = toCarol();
    expect((await subscribe(new URLSearchParams({ email: 'carol@example.org' }))).status).toBe(200);
    // A new address posted after it is mailed after it: once that mail is in, carol's would be too.
    await subscribe(new URLSearchParams({ email: 'sentinel@example.org' }));
    expect(await mailTo('sentinel@example.org')).toBeDefined();
    expect(toCarol()).toBe(before);
  });

  it('rate-limits sign-ups per IP address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1)
      statuses.push((await subscribe(new URLSearchParams({ email: `x${i}@example.org` }))).status);
    expect(statuses).toContain(429);
    const limited = await subscribe(new URLSearchParams({ email: 'late@example.org' }));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('600');
    expect(await subscriberByEmail('late@example.org')).toBeUndefined();
  });
});

describe('a confirmation that is not mailed', () => {
  it('gives the address its slot back when the mailer refuses it, so a second try mails it', async () => {
    let refuse = true;
    const picky = await startSmtpSink({
      onRcptTo: () =>
        refuse ? Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }) : undefined,
    });
    const pickyMailer = createSmtpMailer({ url: picky.url, maxConnections: 1 });
    const pickyServer = await startServer({ ...app, mailer: pickyMailer }, { port: 0, host: '127.0.0.1' });
    try {
      // The answer goes out before the mail (it must not tell new addresses from known ones).
      const refused = await subscribe(new URLSearchParams({ email: 'erin@example.org' }), pickyServer.url);
      expect(refused.status).toBe(200);
      for (let i = 0; i < 400 && (await subscriberByEmail('erin@example.org'))?.confirmation_sent_at; i++)
        await new Promise((resolve) => setTimeout(resolve, 25));
      expect((await subscriberByEmail('erin@example.org'))?.confirmation_sent_at).toBeNull();
      expect(picky.messages).toHaveLength(0);

      refuse = false;
      const again = await subscribe(new URLSearchParams({ email: 'erin@example.org' }), pickyServer.url);
      expect(again.status).toBe(200);
      for (let i = 0; i < 400 && picky.messages.length === 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 25));
      expect(picky.messages.map((m) => m.envelopeTo)).toEqual([['erin@example.org']]);
      expect((await subscriberByEmail('erin@example.org'))?.confirmation_sent_at).toBeInstanceOf(Date);
    } finally {
      await pickyServer.close();
      await pickyMailer.close();
      await picky.close();
    }
  });

  it('answers 503 and keeps no slot when the confirmation cannot be rendered', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'recap-templates-'));
    for (const name of readdirSync(templatesDir))
      copyFileSync(path.join(templatesDir, name), path.join(dir, name));
    // A variable the sign-up does not give: rendering the confirmation throws.
    const confirm = path.join(dir, 'confirm.mjml');
    writeFileSync(
      confirm,
      readFileSync(confirm, 'utf8').replace('{{confirm_url}}', '{{confirm_url}} {{not_given}}'),
    );
    const broken = await startServer({ ...app, mailer }, { port: 0, host: '127.0.0.1', templatesDir: dir });
    try {
      const answer = await subscribe(new URLSearchParams({ email: 'frank@example.org' }), broken.url);
      expect(answer.status).toBe(503);
      const page = await answer.text();
      expect(page).toContain('We could not send the confirmation');
      expect(page).not.toContain('on its way');
      expect((await subscriberByEmail('frank@example.org'))?.confirmation_sent_at).toBeNull();
    } finally {
      await broken.close();
    }
  });

  it('keeps the server from starting when a system mail template cannot be loaded', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'recap-no-templates-'));
    const starting = startServer(app, { port: 0, host: '127.0.0.1', templatesDir: empty });
    await expect(starting).rejects.toBeInstanceOf(UserError);
    await expect(starting).rejects.toThrow(
      /^cannot start: a system mail template cannot be loaded: .*confirm\.mjml[^\n]*$/,
    );
  });
});
