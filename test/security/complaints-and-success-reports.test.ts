import nodemailer, { type Transporter } from 'nodemailer';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { startBounceListener } from '../../src/delivery/bounces/bounce-listener.ts';
import type { InboundOutcome } from '../../src/delivery/bounces/handle-inbound.ts';
import type { Mailer } from '../../src/mail/mailer.ts';
import { createSmtpMailer } from '../../src/mail/smtp-mailer.ts';
import { signBounceToken, signRecipientTokens, tokenToLocalPart } from '../../src/tracking/token.ts';
import { signFormStamp } from '../../src/web/form-stamp.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { createTestApp, SECRET, type Seeded, seedIssue } from '../web/web-fixtures.ts';

// Reports fed over real SMTP to the bounce listener; the reader's way back through the real web server,
// with the confirmation mailed through a real SMTP server.
let app: App;
let seed: Seeded;
let listener: Awaited<ReturnType<typeof startBounceListener>>;
let transport: Transporter;
let sink: SmtpSink;
let mailer: Mailer;
let server: RunningServer;
const outcomes: InboundOutcome[] = [];
const dropped: string[] = [];
const secrets = { current: SECRET, previous: [] };

beforeAll(async () => {
  app = await createTestApp({ SIGNUP_MIN_FILL_SECONDS: '1' });
  seed = await seedIssue(app.db);
  listener = await startBounceListener(app, {
    port: 0,
    onOutcome: (list) => outcomes.push(...list),
    log: (line) => dropped.push(line),
  });
  transport = nodemailer.createTransport({ host: '127.0.0.1', port: listener.port, ignoreTLS: true });
  sink = await startSmtpSink();
  mailer = createSmtpMailer({ url: sink.url, maxConnections: 1 });
  server = await startServer({ ...app, mailer }, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  transport?.close();
  await listener?.close();
  await server?.close();
  await mailer?.close();
  await sink?.close();
  await app?.close();
});
beforeEach(async () => {
  outcomes.length = 0;
  dropped.length = 0;
  await app.db
    .updateTable('subscribers')
    .set({ status: 'active', soft_bounce_count: 0, last_soft_bounce_issue_id: null, unsubscribed_at: null })
    .execute();
});

const statusOf = async (id: string) =>
  (await app.db.selectFrom('subscribers').select('status').where('id', '=', id).executeTakeFirstOrThrow())
    .status;
const send = (to: string, raw: string) => transport.sendMail({ envelope: { from: '', to: [to] }, raw });
const verp = (subscriberId: string) =>
  `bounces+${tokenToLocalPart(signBounceToken(secrets, subscriberId, seed.issueId))}@recap.test`;

function arf(original: string[]): string {
  return [
    'From: Feedback Loop <fbl@isp.example>',
    'Subject: Complaint',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=feedback-report; boundary="A"',
    '',
    '--A',
    'Content-Type: message/feedback-report',
    '',
    'Feedback-Type: abuse',
    'Version: 1',
    '',
    '--A',
    'Content-Type: message/rfc822',
    '',
    ...original,
    '--A--',
    '',
  ].join('\r\n');
}

function dsn(statusLine: string | null): string {
  return [
    'From: Mail Delivery System <MAILER-DAEMON@mx.example.org>',
    'Subject: Delivery Status Notification',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
    '',
    '--B',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.org',
    '',
    'Final-Recipient: rfc822; alice@example.org',
    'Action: failed',
    ...(statusLine === null ? [] : [statusLine]),
    '',
    '--B--',
    '',
  ].join('\r\n');
}

describe('complaints: only the return path can make a reader a complainer', () => {
  it('a complaint quoting only body links (click, pixel, /u/, /p/) unsubscribes, and the reader can undo it', async () => {
    const tokens = signRecipientTokens(secrets, seed.alice, seed.issueId, [1]);
    const bodies = [
      `Read: http://recap.test/c/${tokens.clicks[0]}`,
      `<img src="http://recap.test/o/${tokens.open}">`,
      `Unsubscribe: http://recap.test/u/${tokens.unsubscribe}`,
      `Topics: http://recap.test/p/${tokens.preferences}`,
    ];
    for (const body of bodies) {
      await app.db
        .updateTable('subscribers')
        .set({ status: 'active' })
        .where('id', '=', seed.alice)
        .execute();
      // A forwarded copy posted somewhere: anyone can wrap it in a report to any bounces+ address.
      await send('bounces+anything@recap.test', arf(['From: Weekly AI Recap <recap@recap.test>', '', body]));
      expect(await statusOf(seed.alice), body).toBe('unsubscribed');
    }
    expect(outcomes.map((o) => o.kind)).toEqual([
      'unsubscribed',
      'unsubscribed',
      'unsubscribed',
      'unsubscribed',
    ]);
    // The reader's undo on the goodbye page brings them back.
    const undo = await fetch(`${server.url}/u/${tokens.unsubscribe}`, {
      method: 'POST',
      body: new URLSearchParams({ action: 'resubscribe' }),
    });
    expect(undo.status).toBe(200);
    expect(await statusOf(seed.alice)).toBe('active');
  });

  it('a complaint carrying the VERP token marks the reader complained; a new confirmed sign-up brings them back', async () => {
    await send(verp(seed.bob), arf(['From: Weekly AI Recap <recap@recap.test>', '', 'Hello']));
    expect(outcomes).toEqual([{ kind: 'complaint', subscriberId: seed.bob }]);
    expect(await statusOf(seed.bob)).toBe('complained');

    const signUp = await fetch(`${server.url}/subscribe`, {
      method: 'POST',
      body: new URLSearchParams({
        email: 'bob@example.org',
        form_stamp: signFormStamp(secrets, Date.now() / 1000 - 5),
      }),
    });
    expect(signUp.status).toBe(200);
    // The confirmation goes out after the answer.
    for (let i = 0; i < 200 && sink.messages.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    const mail = sink.messages.find((m) => m.envelopeTo.includes('bob@example.org'));
    const confirmUrl = /http:\/\/recap\.test(\/confirm\/[A-Za-z0-9._~-]+)/.exec(mail?.parsed.text ?? '')?.[1];
    expect(confirmUrl).toBeDefined();
    expect(await statusOf(seed.bob)).toBe('complained');
    expect((await fetch(`${server.url}${confirmUrl}`)).status).toBe(200);
    expect(await statusOf(seed.bob)).toBe('complained');
    expect((await fetch(`${server.url}${confirmUrl}`, { method: 'POST' })).status).toBe(200);
    expect(await statusOf(seed.bob)).toBe('active');

    const log = await app.db
      .selectFrom('consent_log')
      .select(['action', 'detail'])
      .where('subscriber_id', '=', seed.bob)
      .orderBy('id')
      .execute();
    expect(log.map((row) => row.action)).toEqual(['complaint', 'signup-requested', 'confirm']);
    expect(log[2]?.detail).toMatchObject({ after: 'complaint' });
  });
});

describe('DSNs: success and malformed statuses are not bounces (RFC 3464)', () => {
  it('drops Action: failed with a 2.x.x or malformed Status; counts it permanent without any Status', async () => {
    for (const status of [
      'Status: 2.0.0',
      'Status: 2.1.5',
      'Status: bounced',
      'Status: 9.9.9',
      'Status: 550 5.1.1',
    ]) {
      await send(verp(seed.alice), dsn(status));
      expect(await statusOf(seed.alice), status).toBe('active');
    }
    expect(outcomes.map((o) => o.kind)).toEqual(['dropped', 'dropped', 'dropped', 'dropped', 'dropped']);
    expect(dropped).toHaveLength(5);
    expect(dropped[0]).toMatch(/success Status 2\.0\.0/);
    expect(dropped[2]).toMatch(/malformed Status/);

    await send(verp(seed.alice), dsn(null));
    expect(outcomes.at(-1)).toEqual({ kind: 'hard-bounce', subscriberId: seed.alice, status: '5.0.0' });
    expect(await statusOf(seed.alice)).toBe('bounced');
  });
});
