import net from 'node:net';
import nodemailer, { type Transporter } from 'nodemailer';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import {
  MAX_CONNECTIONS,
  MAX_RECIPIENTS,
  startBounceListener,
} from '../../src/delivery/bounces/bounce-listener.ts';
import type { InboundOutcome } from '../../src/delivery/bounces/handle-inbound.ts';
import { signRecipientTokens, signToken, tokenToLocalPart } from '../../src/tracking/token.ts';
import { createTestApp, SECRET, type Seeded, seedIssue } from '../web/web-fixtures.ts';

// The bounce listener is fed over real SMTP the reports an outsider can write (no token of ours, an
// address and a guessable Message-ID) and the ones a real MTA returns (VERP token, or our headers quoted).
let app: App;
let seed: Seeded;
let listener: Awaited<ReturnType<typeof startBounceListener>>;
let transport: Transporter;
const outcomes: InboundOutcome[] = [];
const logged: string[] = [];
const secrets = { current: SECRET, previous: [] };

beforeAll(async () => {
  app = await createTestApp({ SOFT_BOUNCE_LIMIT: '3' });
  seed = await seedIssue(app.db);
  // No host given: the listener binds BOUNCE_SMTP_HOST, whose default is loopback.
  listener = await startBounceListener(app, {
    port: 0,
    onOutcome: (list) => outcomes.push(...list),
    log: (line) => logged.push(line),
  });
  transport = nodemailer.createTransport({ host: '127.0.0.1', port: listener.port, ignoreTLS: true });
});
afterAll(async () => {
  transport?.close();
  await listener?.close();
  await app?.close();
});
beforeEach(async () => {
  outcomes.length = 0;
  logged.length = 0;
  await app.db
    .updateTable('subscribers')
    .set({ status: 'active', soft_bounce_count: 0, last_soft_bounce_issue_id: null, unsubscribed_at: null })
    .execute();
});

const statusOf = async (id: string) =>
  (await app.db.selectFrom('subscribers').select('status').where('id', '=', id).executeTakeFirstOrThrow())
    .status;
const send = (to: string, raw: string) => transport.sendMail({ envelope: { from: '', to: [to] }, raw });
const verp = (subscriberId: string, issueId = seed.issueId) =>
  `bounces+${tokenToLocalPart(signToken(secrets, { kind: 'bounce', subscriberId, issueId }))}@recap.test`;

/** A DSN as Postfix writes it; `original` is the returned header block (our headers, or forged ones). */
function dsn(recipient: string, status: string, original: string[]): string {
  return [
    'From: Mail Delivery System <MAILER-DAEMON@mx.example.org>',
    'Subject: Undelivered Mail Returned to Sender',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
    '',
    '--B',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.org',
    '',
    `Final-Recipient: rfc822; ${recipient}`,
    `Original-Recipient: rfc822;${recipient}`,
    'Action: failed',
    `Status: ${status}`,
    '',
    '--B',
    'Content-Type: text/rfc822-headers',
    '',
    ...original,
    '',
    '--B--',
    '',
  ].join('\r\n');
}

function arf(recipient: string, original: string[]): string {
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
    `Original-Rcpt-To: <${recipient}>`,
    `Removal-Recipient: ${recipient}`,
    '',
    '--A',
    'Content-Type: message/rfc822',
    '',
    ...original,
    '',
    'Hello',
    '--A--',
    '',
  ].join('\r\n');
}

/** What an attacker knows: the address, our From, the Message-ID scheme recap.WEEK.ID@domain. */
const forgedOriginal = (recipient: string, subscriberId: string) => [
  'From: Weekly AI Recap <recap@recap.test>',
  `To: ${recipient}`,
  `Message-ID: <recap.2026-W48.${subscriberId}@recap.test>`,
  `Return-Path: <bounces@recap.test>`,
  'List-Unsubscribe: <http://recap.test/u/u.1.1..AAAAAAAAAAAAAAAAAAAAAA>',
];

describe('forged bounces and complaints', () => {
  it('binds loopback by default (BOUNCE_SMTP_HOST)', () => {
    expect(app.config.bounceSmtpHost).toBe('127.0.0.1');
    expect(listener.address).toBe('127.0.0.1');
  });

  it('suppresses nobody for a hard-bounce DSN without a token of ours', async () => {
    await send(
      'bounces@recap.test',
      dsn('alice@example.org', '5.1.1', forgedOriginal('alice@example.org', seed.alice)),
    );
    expect(outcomes.map((o) => o.kind)).toEqual(['dropped']);
    expect(await statusOf(seed.alice)).toBe('active');
  });

  it('suppresses for a genuine DSN to the VERP return path', async () => {
    await send(verp(seed.alice), dsn('alice@example.org', '5.1.1', []));
    expect(outcomes).toEqual([{ kind: 'hard-bounce', subscriberId: seed.alice, status: '5.1.1' }]);
    expect(await statusOf(seed.alice)).toBe('bounced');
  });

  it('drops a DSN naming only a token of the mail body (/u/, /p/, click, pixel, List-Unsubscribe), hard or soft', async () => {
    const tokens = signRecipientTokens(secrets, seed.bob, seed.issueId, [0]);
    const quotes = [
      `List-Unsubscribe: <http://recap.test/u/${tokens.unsubscribe}>`,
      `X-Quoted: http://recap.test/u/${tokens.unsubscribe}`,
      `X-Quoted: http://recap.test/p/${tokens.preferences}`,
      `X-Quoted: http://recap.test/c/${tokens.clicks[0]}`,
      `X-Quoted: <img src="http://recap.test/o/${tokens.open}">`,
    ];
    // A forwarded or posted copy gives anyone these links; a DSN to any bounces+ address can quote them.
    for (const status of ['5.1.1', '4.2.2'])
      for (const quote of quotes)
        await send(
          'bounces+anything@recap.test',
          dsn('bob@example.org', status, ['From: Weekly AI Recap <recap@recap.test>', quote]),
        );
    expect(outcomes.map((o) => o.kind)).toEqual(Array(10).fill('dropped'));
    expect(logged).toHaveLength(10);
    expect(logged[0]).toMatch(/dsn naming only a token shown in the mail body/);
    expect(await statusOf(seed.bob)).toBe('active');
    const bob = await app.db
      .selectFrom('subscribers')
      .select(['soft_bounce_count'])
      .where('id', '=', seed.bob)
      .executeTakeFirstOrThrow();
    expect(bob.soft_bounce_count).toBe(0);
  });

  it('suppresses for a DSN that quotes our Return-Path (the VERP token) in the returned original', async () => {
    await send(
      'bounces@recap.test',
      dsn('bob@example.org', '5.1.1', [
        'From: Weekly AI Recap <recap@recap.test>',
        `Return-Path: <${verp(seed.bob)}>`,
      ]),
    );
    expect(outcomes).toEqual([{ kind: 'hard-bounce', subscriberId: seed.bob, status: '5.1.1' }]);
    expect(await statusOf(seed.bob)).toBe('bounced');
  });

  it('counts three soft bounces for one issue once, and forged soft bounces not at all', async () => {
    for (let i = 0; i < 3; i++)
      await send(
        'bounces@recap.test',
        dsn('bob@example.org', '4.2.2', forgedOriginal('bob@example.org', seed.bob)),
      );
    expect(await statusOf(seed.bob)).toBe('active');
    for (let i = 0; i < 3; i++) await send(verp(seed.bob), dsn('bob@example.org', '4.2.2', []));
    const counted = outcomes.filter((o) => o.kind === 'soft-bounce').map((o) => o.count);
    expect(counted).toEqual([1, 1, 1]);
    expect(await statusOf(seed.bob)).toBe('active');
  });

  it('ignores an ARF complaint without a token of ours; unsubscribes for one quoting our link token', async () => {
    await send('abuse@recap.test', arf('alice@example.org', forgedOriginal('alice@example.org', seed.alice)));
    expect(await statusOf(seed.alice)).toBe('active');
    const [click] = signRecipientTokens(secrets, seed.alice, seed.issueId, [1]).clicks;
    await send(
      'abuse@recap.test',
      arf('someone@isp.example', [
        'From: Weekly AI Recap <recap@recap.test>',
        '',
        `Read: http://recap.test/c/${click}`,
      ]),
    );
    // A link token is in every forwarded copy: it unsubscribes (undoable), only the VERP token makes a complainer.
    expect(outcomes.map((o) => o.kind)).toEqual(['dropped', 'unsubscribed']);
    expect(await statusOf(seed.alice)).toBe('unsubscribed');
  });

  it('caps recipients per message', async () => {
    const to = Array.from({ length: MAX_RECIPIENTS + 2 }, (_, i) => `bounces${i}@recap.test`);
    const info = await transport.sendMail({ envelope: { from: '', to }, raw: 'Subject: x\r\n\r\nx' });
    expect(info.accepted).toHaveLength(MAX_RECIPIENTS);
    expect(info.rejected).toHaveLength(2);
  });

  it('caps concurrent connections', async () => {
    const greeting = (socket: net.Socket) =>
      new Promise<string>((resolve) => socket.once('data', (chunk) => resolve(chunk.toString())));
    const sockets = Array.from({ length: MAX_CONNECTIONS }, () => net.connect(listener.port, '127.0.0.1'));
    try {
      const greetings = await Promise.all(sockets.map(greeting));
      expect(greetings.every((line) => line.startsWith('220'))).toBe(true);
      const extra = net.connect(listener.port, '127.0.0.1');
      sockets.push(extra);
      expect(await greeting(extra)).toMatch(/^421/);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });
});
