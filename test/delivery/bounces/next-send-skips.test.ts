import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import nodemailer, { type Transporter } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/cli/app.ts';
import { runDemo } from '../../../src/cli/run-demo.ts';
import { startBounceListener } from '../../../src/delivery/bounces/bounce-listener.ts';
import { signToken, tokenToLocalPart } from '../../../src/tracking/token.ts';
import { createTestApp, SECRET } from '../../web/web-fixtures.ts';

// A real send, a real bounce and a real complaint, then the next week's real send.
let app: App;
let listener: { port: number; close(): Promise<void> };
let transport: Transporter;

beforeAll(async () => {
  app = await createTestApp();
  listener = await startBounceListener(app, { port: 0, host: '127.0.0.1', log: () => {} });
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

async function recipientsOf(week: string): Promise<Map<string, Buffer>> {
  const byRecipient = new Map<string, Buffer>();
  for (const file of readdirSync(app.config.outboxDir).filter((name) => name.endsWith('.eml'))) {
    const raw = readFileSync(path.join(app.config.outboxDir, file));
    const mail = await simpleParser(raw);
    if (!mail.subject?.includes(week) && !file.includes(week)) continue;
    const to = mail.to && !Array.isArray(mail.to) ? mail.to.value[0]?.address : undefined;
    if (to) byRecipient.set(to, raw);
  }
  return byRecipient;
}

describe('after a bounce and a complaint', () => {
  it('the next week is not sent to the suppressed addresses', async () => {
    await runDemo(app, { week: '2026-W48', now: new Date('2026-11-30T07:00:00Z') });
    const first = await recipientsOf('2026-W48');
    // The two readers following the most segments: they would get any week's issue.
    const followers = await app.db
      .selectFrom('subscriptions')
      .innerJoin('subscribers', 'subscribers.id', 'subscriptions.subscriber_id')
      .select(['subscribers.email', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('subscribers.email')
      .orderBy('n', 'desc')
      .orderBy('subscribers.email')
      .execute();
    const [bouncer, complainer] = followers.map((row) => row.email).filter((email) => first.has(email));
    expect(bouncer && complainer).toBeTruthy();
    const idOf = async (email: string) =>
      (
        await app.db
          .selectFrom('subscribers')
          .select('id')
          .where('email', '=', email)
          .executeTakeFirstOrThrow()
      ).id;
    const issue = await app.db
      .selectFrom('issues')
      .select('id')
      .where('week', '=', '2026-W48')
      .executeTakeFirstOrThrow();

    const bounceToken = signToken(
      { current: SECRET, previous: [] },
      { kind: 'bounce', subscriberId: await idOf(bouncer ?? ''), issueId: issue.id },
    );
    const dsn = [
      'From: MAILER-DAEMON@mx.example.org',
      'Subject: Undelivered Mail Returned to Sender',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
      '',
      '--B',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.example.org',
      '',
      `Final-Recipient: rfc822; ${bouncer}`,
      'Action: failed',
      'Status: 5.1.1',
      '',
      '--B--',
      '',
    ].join('\r\n');
    await transport.sendMail({
      envelope: { from: '', to: [`bounces+${tokenToLocalPart(bounceToken)}@recap.test`] },
      raw: dsn,
    });

    // The complaint quotes the message as the reader's mailbox stored it: the receiving MTA wrote the
    // envelope sender (our VERP address) into Return-Path, which is what makes it a complaint.
    const complainerToken = signToken(
      { current: SECRET, previous: [] },
      { kind: 'bounce', subscriberId: await idOf(complainer ?? ''), issueId: issue.id },
    );
    const returnPath = `Return-Path: <bounces+${tokenToLocalPart(complainerToken)}@recap.test>`;
    const original = `${returnPath}\r\n${first.get(complainer ?? '')?.toString('utf8') ?? ''}`;
    const arf = [
      'From: fbl@isp.example',
      'Subject: Abuse report',
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
      original,
      '--A--',
      '',
    ].join('\r\n');
    await transport.sendMail({ envelope: { from: 'fbl@isp.example', to: ['fbl@recap.test'] }, raw: arf });

    const statuses = await app.db
      .selectFrom('subscribers')
      .select(['email', 'status'])
      .where('email', 'in', [bouncer ?? '', complainer ?? ''])
      .orderBy('email')
      .execute();
    expect(Object.fromEntries(statuses.map((s) => [s.email, s.status]))).toEqual({
      [bouncer ?? '']: 'bounced',
      [complainer ?? '']: 'complained',
    });

    await runDemo(app, { week: '2026-W49', now: new Date('2026-12-07T07:00:00Z') });
    const second = await recipientsOf('2026-W49');
    expect(second.size).toBeGreaterThan(0);
    expect(second.has(bouncer ?? '')).toBe(false);
    // Not a coincidence of topics: both follow a segment that has stories in week 49.
    const eligible = await app.db
      .selectFrom('subscriptions')
      .innerJoin('subscribers', 'subscribers.id', 'subscriptions.subscriber_id')
      .innerJoin('issue_items', 'issue_items.segment_id', 'subscriptions.segment_id')
      .innerJoin('issues', 'issues.id', 'issue_items.issue_id')
      .select('subscribers.email')
      .distinct()
      .where('issues.week', '=', '2026-W49')
      .where('subscribers.email', 'in', [bouncer ?? '', complainer ?? ''])
      .execute();
    expect(eligible).toHaveLength(2);
    expect(second.has(complainer ?? '')).toBe(false);
  });
});
