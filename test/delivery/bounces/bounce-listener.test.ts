import nodemailer, { type Transporter } from 'nodemailer';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../../src/cli/app.ts';
import { startBounceListener } from '../../../src/delivery/bounces/bounce-listener.ts';
import type { InboundOutcome } from '../../../src/delivery/bounces/handle-inbound.ts';
import { signToken, tokenToLocalPart } from '../../../src/tracking/token.ts';
import { createTestApp, SECRET, type Seeded, seedIssue } from '../../web/web-fixtures.ts';

let app: App;
let seed: Seeded;
let listener: { port: number; close(): Promise<void> };
let transport: Transporter;
const outcomes: InboundOutcome[] = [];
const logged: string[] = [];
const secrets = { current: SECRET, previous: [] };

beforeAll(async () => {
  app = await createTestApp({ SOFT_BOUNCE_LIMIT: '3' });
  seed = await seedIssue(app.db);
  listener = await startBounceListener(app, {
    port: 0,
    host: '127.0.0.1',
    onOutcome: (list) => outcomes.push(...list),
    log: (line) => logged.push(line),
  });
  transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: listener.port,
    secure: false,
    ignoreTLS: true,
  });
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
/** The audience the sending worker claims from: only status 'active' is ever sent to. */
const sendable = async () =>
  (
    await app.db.selectFrom('subscribers').select('id').where('status', '=', 'active').orderBy('id').execute()
  ).map((r) => r.id);

function dsn(recipient: string, action: string, status: string): string {
  return [
    'From: Mail Delivery System <MAILER-DAEMON@mx.example.org>',
    'To: bounces@recap.test',
    'Subject: Undelivered Mail Returned to Sender',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"',
    '',
    '--BOUNDARY',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'I could not deliver your message.',
    '',
    '--BOUNDARY',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.org',
    'Arrival-Date: Mon, 23 Nov 2026 08:00:01 +0000',
    '',
    `Final-Recipient: rfc822; ${recipient}`,
    `Original-Recipient: rfc822;${recipient}`,
    `Action: ${action}`,
    `Status: ${status}`,
    `Diagnostic-Code: smtp; ${status.startsWith('5') ? '550' : '452'} ${status} mailbox says no`,
    '',
    '--BOUNDARY',
    'Content-Type: text/rfc822-headers',
    '',
    'From: Weekly AI Recap <recap@recap.test>',
    `To: ${recipient}`,
    'Subject: Your weekly AI recap',
    '',
    '--BOUNDARY--',
    '',
  ].join('\r\n');
}

function arf(recipient: string, unsubscribeUrl: string): string {
  return [
    'From: Feedback Loop <fbl@isp.example>',
    'To: abuse@recap.test',
    'Subject: Complaint about message from 192.0.2.1',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"',
    '',
    '--ARF',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is an email abuse report.',
    '',
    '--ARF',
    'Content-Type: message/feedback-report',
    '',
    'Feedback-Type: abuse',
    'User-Agent: ExampleFBL/1.0',
    'Version: 1',
    `Original-Rcpt-To: <${recipient}>`,
    '',
    '--ARF',
    'Content-Type: message/rfc822',
    'Content-Disposition: attachment',
    '',
    'From: Weekly AI Recap <recap@recap.test>',
    `To: ${recipient}`,
    'Subject: Your weekly AI recap',
    `List-Unsubscribe: <${unsubscribeUrl}>`,
    '',
    'Hello',
    '--ARF--',
    '',
  ].join('\r\n');
}

const bounceAddress = (subscriberId: string, issueId = seed.issueId) =>
  `bounces+${tokenToLocalPart(signToken(secrets, { kind: 'bounce', subscriberId, issueId }))}@recap.test`;
const send = (to: string, raw: string) => transport.sendMail({ envelope: { from: '', to: [to] }, raw });

describe('bounce listener', () => {
  it('suppresses a hard bounce (Action: failed, 5.x.x) at once; the next send skips the address', async () => {
    await send(bounceAddress(seed.alice), dsn('alice@example.org', 'failed', '5.1.1'));
    expect(outcomes).toEqual([{ kind: 'hard-bounce', subscriberId: seed.alice, status: '5.1.1' }]);
    expect(await statusOf(seed.alice)).toBe('bounced');
    expect(await sendable()).toEqual([seed.bob]);
    const delivery = await app.db
      .selectFrom('deliveries')
      .select('status')
      .where('subscriber_id', '=', seed.alice)
      .executeTakeFirstOrThrow();
    expect(delivery.status).toBe('bounced');
  });

  it('ignores delayed and delivered notices: only Action: failed counts', async () => {
    await send(bounceAddress(seed.bob), dsn('bob@example.org', 'delayed', '4.4.7'));
    await send(bounceAddress(seed.bob), dsn('bob@example.org', 'delivered', '2.0.0'));
    expect(outcomes.map((o) => o.kind)).toEqual(['dropped', 'dropped']);
    expect(await statusOf(seed.bob)).toBe('active');
  });

  it('suppresses after three soft bounces on consecutive issues, counting each issue once', async () => {
    const issues = await app.db
      .insertInto('issues')
      .values([{ week: '2026-W49' }, { week: '2026-W50' }])
      .returning('id')
      .execute();
    await app.db
      .insertInto('deliveries')
      .values(
        issues.map((issue) => ({
          issue_id: issue.id,
          subscriber_id: seed.bob,
          segment_key: 'engineers',
          message_id: `<m${issue.id}@x>`,
        })),
      )
      .execute();
    await send(bounceAddress(seed.bob), dsn('bob@example.org', 'failed', '4.2.2'));
    await send(bounceAddress(seed.bob), dsn('bob@example.org', 'failed', '4.2.2'));
    await send(bounceAddress(seed.bob, issues[0]?.id), dsn('bob@example.org', 'failed', '4.2.2'));
    expect(await statusOf(seed.bob)).toBe('active');
    await send(bounceAddress(seed.bob, issues[1]?.id), dsn('bob@example.org', 'failed', '4.2.2'));
    expect(outcomes.map((o) => (o.kind === 'soft-bounce' ? o.count : o.kind))).toEqual([1, 1, 2, 3]);
    expect(await statusOf(seed.bob)).toBe('bounced');
    expect(await sendable()).not.toContain(seed.bob);
  });

  it('turns an ARF complaint to the VERP return path into status complained', async () => {
    await send(bounceAddress(seed.bob), arf('someone-else@isp.example', 'https://elsewhere.example/'));
    expect(outcomes).toEqual([{ kind: 'complaint', subscriberId: seed.bob }]);
    const bob = await app.db
      .selectFrom('subscribers')
      .selectAll()
      .where('id', '=', seed.bob)
      .executeTakeFirstOrThrow();
    expect(bob.status).toBe('complained');
    expect(bob.unsubscribed_at).toBeInstanceOf(Date);
    expect(await sendable()).toEqual([seed.alice]);
  });

  it('only unsubscribes for an ARF complaint quoting a link of the body', async () => {
    const unsubscribeUrl = `http://recap.test/u/${signToken(secrets, { kind: 'unsubscribe', subscriberId: seed.bob, issueId: seed.issueId })}`;
    await send('abuse@recap.test', arf('someone-else@isp.example', unsubscribeUrl));
    expect(outcomes).toEqual([{ kind: 'unsubscribed', subscriberId: seed.bob, changed: true }]);
    expect(await statusOf(seed.bob)).toBe('unsubscribed');
    expect(await sendable()).toEqual([seed.alice]);
  });

  it('does not act on the reported address when no token of ours is quoted (anyone can write it)', async () => {
    await send('abuse@recap.test', arf('alice@example.org', 'https://elsewhere.example/'));
    expect(outcomes.map((o) => o.kind)).toEqual(['dropped']);
    expect(await statusOf(seed.alice)).toBe('active');
  });

  it('unsubscribes through the List-Unsubscribe mailto address on a valid token only', async () => {
    const token = signToken(secrets, {
      kind: 'unsubscribe',
      subscriberId: seed.alice,
      issueId: seed.issueId,
    });
    await send(
      `unsubscribe+${tokenToLocalPart(token.replace(`u.${seed.alice}.`, `u.${seed.bob}.`))}@recap.test`,
      'Subject: unsubscribe\r\n\r\nplease',
    );
    expect(await statusOf(seed.bob)).toBe('active');
    await transport.sendMail({
      envelope: { from: 'alice@example.org', to: [`unsubscribe+${tokenToLocalPart(token)}@recap.test`] },
      raw: 'Subject: unsubscribe\r\n\r\n',
    });
    expect(await statusOf(seed.alice)).toBe('unsubscribed');
    const consent = await app.db
      .selectFrom('consent_log')
      .selectAll()
      .where('subscriber_id', '=', seed.alice)
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(consent.detail).toMatchObject({ source: 'mailto' });
  });

  it('logs and drops unknown, forged and malformed mail and keeps listening', async () => {
    await send('postmaster@recap.test', 'Subject: hello\r\n\r\njust a note');
    await send('bounces+b=1=1===AAAAAAAAAAAAAAAA@recap.test', dsn('nobody@example.org', 'failed', '5.1.1'));
    await send(
      'bounces@recap.test',
      'Content-Type: multipart/report; boundary="x"\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\n\x00\x01garbage',
    );
    expect(outcomes.every((o) => o.kind === 'dropped')).toBe(true);
    expect(logged.length).toBe(3);
    expect(await sendable()).toEqual([seed.alice, seed.bob]);
    await send(bounceAddress(seed.alice), dsn('alice@example.org', 'failed', '5.7.1'));
    expect(await statusOf(seed.alice)).toBe('bounced');
  });
});
