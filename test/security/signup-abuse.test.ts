import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import type { Mailer } from '../../src/mail/mailer.ts';
import { createSmtpMailer } from '../../src/mail/smtp-mailer.ts';
import { upsertSubscribers } from '../../src/subscribers/subscriber.repository.ts';
import { parseSubscribersCsv } from '../../src/subscribers/subscriber-import.ts';
import { signFormStamp } from '../../src/web/form-stamp.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { createTestApp, SECRET } from '../web/web-fixtures.ts';

// Sign-up abuse against two real servers on one database (two processes' worth of in-memory state),
// mailing through a real SMTP server.
let app: App;
let sink: SmtpSink;
let mailer: Mailer;
let first: RunningServer;
let second: RunningServer;
const secrets = { current: SECRET, previous: [] };
const MIN_FILL = 3;

beforeAll(async () => {
  app = await createTestApp({ SIGNUP_MIN_FILL_SECONDS: String(MIN_FILL), SIGNUP_CONFIRM_INTERVAL: '600' });
  await app.db.insertInto('segments').values({ name: 'Engineers', slug: 'engineers' }).execute();
  sink = await startSmtpSink();
  mailer = createSmtpMailer({ url: sink.url, maxConnections: 1 });
  first = await startServer({ ...app, mailer }, { port: 0, host: '127.0.0.1', signUpsPerHour: 1000 });
  second = await startServer({ ...app, mailer }, { port: 0, host: '127.0.0.1', signUpsPerHour: 1000 });
});
afterAll(async () => {
  await first?.close();
  await second?.close();
  await mailer?.close();
  await sink?.close();
  await app?.close();
});

/** A stamp as the form would have carried it, served `age` seconds ago (signed with the real secret). */
const stampServed = (age: number) => signFormStamp(secrets, Date.now() / 1000 - age);
const post = (server: RunningServer, fields: Record<string, string>) =>
  fetch(`${server.url}/subscribe`, {
    method: 'POST',
    body: new URLSearchParams({ form_stamp: stampServed(MIN_FILL + 1), ...fields }),
  });
const stored = (email: string) =>
  app.db.selectFrom('subscribers').selectAll().where('email', '=', email).executeTakeFirst();
const mailsTo = (email: string) => sink.messages.filter((m) => m.envelopeTo.includes(email)).length;
/** Confirmations go out after the answer: wait for a mail to `to` (a sentinel address mailed last). */
async function mailedSoon(to: string): Promise<boolean> {
  for (let i = 0; i < 200 && mailsTo(to) === 0; i++) await new Promise((r) => setTimeout(r, 25));
  return mailsTo(to) > 0;
}

describe('sign-up abuse', () => {
  it('refuses list-like and decorated addresses with 400 and stores nothing', async () => {
    for (const email of [
      'x,someone@example.org',
      'a;b@example.org',
      'Jane <jane@example.org>',
      '"a b"@example.org',
      'a@b@example.org',
      'jane@example.org\r\nBcc: x@example.org',
    ]) {
      const response = await post(first, { email });
      expect(response.status, email).toBe(400);
      expect(await response.text()).not.toMatch(/at \w+ \(/);
    }
    const all = await app.db.selectFrom('subscribers').select('email').execute();
    expect(all.map((row) => row.email).filter((email) => /[,;<" ]/.test(email))).toEqual([]);
  });

  it('refuses the same addresses in a CSV import', async () => {
    const csv = [
      'email,name,segments',
      '"x,someone@example.org",X,Engineers',
      'a;b@example.org,A,Engineers',
      '"Jane <jane@example.org>",Jane,Engineers',
      'ok@example.org,Ok,Engineers',
    ].join('\n');
    const segments = [{ id: 1, name: 'Engineers', slug: 'engineers' }];
    const parsed = parseSubscribersCsv(csv, segments);
    expect(parsed.subscribers.map((s) => s.email)).toEqual(['ok@example.org']);
    expect(parsed.problems.map((p) => [p.record, p.field])).toEqual([
      [1, 'email'],
      [2, 'email'],
      [3, 'email'],
    ]);
    await app.db.transaction().execute((trx) => upsertSubscribers(trx, parsed.subscribers, 'test.csv'));
    expect(await stored('x,someone@example.org')).toBeUndefined();
  });

  it('answers before any mail goes out', async () => {
    // An SMTP server that holds every message until the test releases it.
    const held: Array<() => void> = [];
    const received: string[] = [];
    const slow = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        stream.resume();
        stream.on('end', () => {
          received.push(session.envelope.rcptTo[0]?.address ?? '');
          held.push(() => callback());
        });
      },
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const slowMailer = createSmtpMailer({
      url: `smtp://127.0.0.1:${(slow.server.address() as AddressInfo).port}`,
      maxConnections: 1,
    });
    const server = await startServer({ ...app, mailer: slowMailer }, { port: 0, host: '127.0.0.1' });
    try {
      const response = await post(server, { email: 'held@example.org' });
      expect(response.status).toBe(200);
      expect(received).toEqual([]);
      while (received.length === 0) await new Promise((r) => setTimeout(r, 20));
      expect(received).toEqual(['held@example.org']);
    } finally {
      for (const release of held) release();
      await server.close();
      await slowMailer.close();
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });

  it('mails one confirmation per address per interval, across server processes (held in the database)', async () => {
    expect((await post(first, { email: 'bombed@example.org' })).status).toBe(200);
    expect((await post(second, { email: 'bombed@example.org' })).status).toBe(200);
    expect((await post(first, { email: 'bombed@example.org' })).status).toBe(200);
    expect((await post(second, { email: 'sentinel1@example.org' })).status).toBe(200);
    expect(await mailedSoon('sentinel1@example.org')).toBe(true);
    expect(mailsTo('bombed@example.org')).toBe(1);
    const row = await stored('bombed@example.org');
    expect(row?.confirmation_sent_at).toBeInstanceOf(Date);
  });

  /**
   * "Check your inbox" repeats what the request carried (the address, its form stamp, the hidden field)
   * for its resend button: blanked, what is left must be the same page whatever the address's state.
   */
  const shape = (page: string) =>
    page
      .replace(/<strong>[^<]*@[^<]*<\/strong>/, '<strong>ADDRESS</strong>')
      .replace(/name="(email|form_stamp|website)" value="[^"]*"/g, 'name="$1" value=""');

  it('never mails a bounced or active address, and answers every state with the same page', async () => {
    await app.db
      .insertInto('subscribers')
      .values([
        { email: 'complained@example.org', status: 'complained' },
        { email: 'bounced@example.org', status: 'bounced' },
        { email: 'active@example.org', status: 'active' },
      ])
      .execute();
    const answers: string[] = [];
    for (const email of [
      'brand-new@example.org',
      'brand-new@example.org', // now pending, within the interval
      'complained@example.org',
      'bounced@example.org',
      'active@example.org',
    ]) {
      const response = await post(second, { email });
      answers.push(
        `${response.status} ${response.headers.get('content-type')} ${shape(await response.text())}`,
      );
    }
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]).toMatch(/^200 /);
    expect((await post(first, { email: 'sentinel2@example.org' })).status).toBe(200);
    expect(await mailedSoon('sentinel2@example.org')).toBe(true);
    expect(mailsTo('brand-new@example.org')).toBe(1);
    // A complaint is undone only by a new, confirmed opt-in: the confirmation is that opt-in.
    expect(mailsTo('complained@example.org')).toBe(1);
    expect(mailsTo('bounced@example.org')).toBe(0);
    expect(mailsTo('active@example.org')).toBe(0);
  });

  it('stops form bots: a filled honeypot, a form sent too fast, a missing or forged stamp', async () => {
    const normal = shape(await (await post(first, { email: 'sentinel3@example.org' })).text());
    const honeypot = await post(first, { email: 'pot@example.org', website: 'http://spam.example' });
    expect(honeypot.status).toBe(200);
    expect(shape(await honeypot.text())).toBe(normal);
    const form = await (await fetch(`${first.url}/subscribe`)).text();
    expect(form).toContain('name="website"');
    const stamp = /name="form_stamp" value="([^"]+)"/.exec(form)?.[1] ?? '';
    const fast = await fetch(`${first.url}/subscribe`, {
      method: 'POST',
      body: new URLSearchParams({ email: 'fast@example.org', form_stamp: stamp }),
    });
    expect(fast.status).toBe(200);
    expect(shape(await fast.text())).toBe(normal);
    const missing = await fetch(`${first.url}/subscribe`, {
      method: 'POST',
      body: new URLSearchParams({ email: 'nostamp@example.org' }),
    });
    expect(missing.status).toBe(400);
    const forged = await post(first, {
      email: 'forged@example.org',
      form_stamp: signFormStamp(
        { current: 'another-secret-another-secret-0123', previous: [] },
        Date.now() / 1000 - 60,
      ),
    });
    expect(forged.status).toBe(400);
    expect(await mailedSoon('sentinel3@example.org')).toBe(true);
    for (const email of [
      'pot@example.org',
      'fast@example.org',
      'nostamp@example.org',
      'forged@example.org',
    ]) {
      expect(await stored(email), email).toBeUndefined();
      expect(mailsTo(email), email).toBe(0);
    }
  });
});
