import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { messageFactoryFor } from '../../src/delivery/edition-messages.ts';
import { runWorker } from '../../src/delivery/send-worker.ts';
import { startSend } from '../../src/delivery/start-send.ts';
import { createSmtpMailer } from '../../src/mail/smtp-mailer.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type SmtpSinkOptions, startSmtpSink } from '../support/smtp-sink.ts';
import { type SeededSend, seedSend, testConfig } from './send-fixtures.ts';

const fastRetry = { baseMs: 10, capMs: 80, deadlineMs: 60_000 };

function refusal(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

describe('sending when the SMTP server pushes back', () => {
  let test: TestDatabase;
  let seeded: SeededSend;

  beforeEach(async () => {
    test = await createTestDatabase();
    seeded = await seedSend(test.db, 60);
    await startSend(test.db, seeded.issueId, { messageIdDomain: 'news.example.test' });
  });
  afterEach(async () => {
    await test?.close();
  });

  async function sendThrough(
    sinkOptions: SmtpSinkOptions,
    env: Record<string, string> = {},
    url?: (sinkUrl: string) => string,
  ) {
    const sink = await startSmtpSink(sinkOptions);
    const smtpUrl = url ? url(sink.url) : sink.url;
    const config = testConfig({ SMTP_URL: smtpUrl, ...env });
    const mailer = createSmtpMailer({ url: smtpUrl, maxConnections: 3 });
    try {
      const summary = await runWorker({
        db: test.db,
        mailer,
        config,
        workerId: 'w1',
        issueId: seeded.issueId,
        messages: async () => messageFactoryFor(seeded.content, config),
        retry: fastRetry,
        pollMs: 50,
      });
      return { summary, sink };
    } finally {
      await mailer.close();
      await sink.close();
    }
  }

  it('retries 4xx answers and dropped connections until every subscriber has the issue exactly once', async () => {
    let rcpt = 0;
    let data = 0;
    const { summary, sink } = await sendThrough({
      onRcptTo: () => (++rcpt % 10 === 3 ? refusal(451, '4.3.0 try again later') : undefined),
      onData: () => {
        data++;
        if (data % 10 === 7) return refusal(452, '4.3.1 insufficient storage');
        // 421 makes the server close the connection after answering.
        if (data % 17 === 0) return refusal(421, '4.4.2 closing connection');
        return undefined;
      },
    });
    expect(summary.retried).toBeGreaterThan(5);
    expect(summary).toMatchObject({ sent: 60, failed: 0, bounced: 0 });
    const received = sink.messages.map((m) => m.envelopeTo[0]).sort();
    expect(received).toEqual([...seeded.subscribers.keys()].sort());
    const rows = await test.db.selectFrom('deliveries').select(['status', 'attempts']).execute();
    expect(rows.every((row) => row.status === 'sent')).toBe(true);
    expect(rows.some((row) => row.attempts > 1)).toBe(true);
    const issue = await test.db
      .selectFrom('issues')
      .select('status')
      .where('id', '=', seeded.issueId)
      .executeTakeFirstOrThrow();
    expect(issue.status).toBe('sent');
  });

  it('marks 5.1.1 bounced and suppresses the address, records 5.7.1 without suppressing, and a later send skips the bounced', async () => {
    const unknown = new Set(['reader7@example.test', 'reader17@example.test', 'reader27@example.test']);
    const blocked = 'reader8@example.test';
    const { summary, sink } = await sendThrough({
      onRcptTo: (address) => {
        if (unknown.has(address))
          return refusal(550, '5.1.1 <address>: Recipient address rejected: User unknown');
        if (address === blocked) return refusal(550, '5.7.1 Message rejected by policy');
        return undefined;
      },
    });
    expect(summary).toMatchObject({ sent: 56, bounced: 3, failed: 1 });
    expect(sink.messages).toHaveLength(56);
    const rows = await test.db
      .selectFrom('deliveries')
      .innerJoin('subscribers', 'subscribers.id', 'deliveries.subscriber_id')
      .select([
        'subscribers.email',
        'subscribers.status as subscriberStatus',
        'deliveries.status',
        'failure_kind',
        'smtp_code',
        'last_error',
      ])
      .where('subscribers.email', 'in', [...unknown, blocked])
      .execute();
    for (const row of rows.filter((r) => unknown.has(r.email))) {
      expect(row).toMatchObject({
        status: 'bounced',
        subscriberStatus: 'bounced',
        failure_kind: 'permanent',
        smtp_code: '550 5.1.1',
      });
    }
    expect(rows.find((r) => r.email === blocked)).toMatchObject({
      status: 'failed',
      subscriberStatus: 'active',
      failure_kind: 'policy',
      smtp_code: '550 5.7.1',
    });
    const consent = await test.db
      .selectFrom('consent_log')
      .select(['action'])
      .where('action', '=', 'suppressed-hard-bounce')
      .execute();
    expect(consent).toHaveLength(3);

    // The next week's send leaves the bounced addresses out of the audience.
    const next = await seedSend(test.db, 0, { week: '2026-W49' });
    const counts = await startSend(test.db, next.issueId, { messageIdDomain: 'news.example.test' });
    expect(counts).toMatchObject({ eligible: 57, suppressed: 3 });
  });

  it('pauses itself with the reason after the configured number of consecutive failures', async () => {
    const { summary, sink } = await sendThrough(
      // Not 4.7.x or 421: those ask to slow down and back off the domain instead (send-pacing.test.ts).
      { onRcptTo: () => refusal(452, '4.3.1 insufficient system storage, come back later') },
      { SEND_MAX_CONSECUTIVE_FAILURES: '5' },
    );
    expect(sink.messages).toHaveLength(0);
    expect(summary.fatal).toMatch(/paused after 5 consecutive failures; last: .*insufficient system storage/);
    const issue = await test.db
      .selectFrom('issues')
      .select(['status', 'status_reason'])
      .where('id', '=', seeded.issueId)
      .executeTakeFirstOrThrow();
    expect(issue.status).toBe('paused');
    expect(issue.status_reason).toMatch(/5 consecutive failures/);
    const queued = await test.db
      .selectFrom('deliveries')
      .select('id')
      .where('status', '=', 'queued')
      .execute();
    expect(queued).toHaveLength(60);
  });

  it('stops the whole send with one clear message when authentication fails, leaving every delivery queued', async () => {
    const { summary, sink } = await sendThrough(
      {
        serverOptions: {
          authOptional: false,
          authMethods: ['PLAIN', 'LOGIN'],
          onAuth: (_auth, _session, callback) => callback(new Error('Invalid username or password')),
          onRcptTo: (
            _address: SMTPServerAddress,
            _session: SMTPServerSession,
            callback: (error?: Error) => void,
          ) => callback(),
        },
      },
      {},
      (sinkUrl) => sinkUrl.replace('smtp://', 'smtp://mailer:wrong@'),
    );
    expect(sink.messages).toHaveLength(0);
    expect(summary.fatal).toMatch(/^SMTP authentication failed: .*Invalid username or password/);
    const rows = await test.db
      .selectFrom('deliveries')
      .select(['status', 'attempts', 'lease_owner'])
      .execute();
    expect(rows.every((r) => r.status === 'queued' && r.lease_owner === null && r.attempts === 0)).toBe(true);
    const issue = await test.db
      .selectFrom('issues')
      .select(['status', 'status_reason'])
      .executeTakeFirstOrThrow();
    expect(issue).toMatchObject({ status: 'paused' });
    expect(issue.status_reason).toMatch(/authentication failed/);
  });
});
