import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { messageFactoryFor } from '../../src/delivery/edition-messages.ts';
import { runWorker } from '../../src/delivery/send-worker.ts';
import { startSend } from '../../src/delivery/start-send.ts';
import { classifySmtpError } from '../../src/mail/classify-smtp-error.ts';
import { createSmtpMailer } from '../../src/mail/smtp-mailer.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { type SeededSend, seedSend, testConfig, WEEK } from './send-fixtures.ts';

const READERS = 150;

describe('a relay that goes away and comes back', () => {
  let test: TestDatabase;
  let seeded: SeededSend;
  let sink: SmtpSink;

  beforeEach(async () => {
    test = await createTestDatabase();
    seeded = await seedSend(test.db, READERS);
    await startSend(test.db, seeded.issueId, { messageIdDomain: 'news.example.test' });
    sink = await startSmtpSink();
  });
  afterEach(async () => {
    await sink?.close().catch(() => {});
    await test?.close();
  });

  async function sendWhileRelayDown(downMs: number, env: Record<string, string>, relayAlertAfterMs?: number) {
    const config = testConfig({ SMTP_URL: sink.url, SEND_RATE: '30', ...env });
    const mailer = createSmtpMailer({ url: sink.url, maxConnections: 2 });
    const lines: string[] = [];
    try {
      const running = runWorker({
        db: test.db,
        mailer,
        config,
        workerId: 'w1',
        issueId: seeded.issueId,
        messages: async () => messageFactoryFor(seeded.content, config),
        pollMs: 50,
        // A 421 from the relay shutting down mid-conversation backs the domain off this long.
        domainBackoffMs: 200,
        log: (line) => lines.push(line),
        ...(relayAlertAfterMs === undefined ? {} : { relayAlertAfterMs }),
      });
      while (sink.messages.length < 30) await new Promise((resolve) => setTimeout(resolve, 20));
      await sink.goDown();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await sink.comeBack();
      return { summary: await running, lines };
    } finally {
      await mailer.close();
    }
  }

  function copiesPerReader(): Map<string, number> {
    const copies = new Map<string, number>();
    for (const message of sink.messages) {
      if (!message.parsed.messageId?.startsWith(`<recap.${WEEK}.`)) continue;
      const to = message.envelopeTo[0] as string;
      copies.set(to, (copies.get(to) ?? 0) + 1);
    }
    return copies;
  }

  it('refusing connections for 30 s pauses nothing, counts no failure, and everyone gets exactly one copy', async () => {
    const { summary, lines } = await sendWhileRelayDown(30_000, { SEND_MAX_CONSECUTIVE_FAILURES: '5' });
    expect(summary.fatal).toBeUndefined();
    expect(summary.stoppedBecause).toBeUndefined();
    expect(summary.failed).toBe(0);
    const issue = await test.db
      .selectFrom('issues')
      .select('status')
      .where('id', '=', seeded.issueId)
      .executeTakeFirstOrThrow();
    expect(issue.status).toBe('sent');
    const copies = copiesPerReader();
    expect(copies.size).toBe(READERS);
    expect([...copies.values()].every((n) => n === 1)).toBe(true);
    expect(lines.some((line) => line.startsWith('the SMTP relay cannot be reached'))).toBe(true);
    expect(lines.some((line) => line.startsWith('the SMTP relay answers again'))).toBe(true);
  }, 180_000);

  it('raises an alert when the relay stays away longer than the alert threshold, and still pauses nothing', async () => {
    // Retries back off 0.5, 1, 2 s (with jitter): the third, the one past the 1 s threshold, falls at
    // most 3.5 s into the outage, so the relay stays away 6 s.
    const { summary } = await sendWhileRelayDown(6_000, { ALERT_EMAIL: 'ops@example.test' }, 1_000);
    expect(summary.fatal).toBeUndefined();
    const alerts = await test.db.selectFrom('alerts').select(['kind', 'cause']).execute();
    expect(alerts.map((alert) => alert.kind)).toContain('relay-unreachable');
    expect(copiesPerReader().size).toBe(READERS);
  }, 180_000);

  it('tells the relay apart from the reader: refused, timed out, TLS and 421 at the greeting are the relay', () => {
    const relay = [
      { code: 'ESOCKET', message: 'connect ECONNREFUSED 127.0.0.1:25', command: 'CONN' },
      { code: 'ETIMEDOUT', message: 'Greeting never received', command: 'CONN' },
      { code: 'ETLS', message: 'Error initiating TLS' },
      { code: 'EPROTOCOL', responseCode: 421, response: '421 4.3.2 Service not available', command: 'CONN' },
      { code: 'ECONNECTION', message: 'Connection closed unexpectedly' },
    ];
    for (const error of relay) expect(classifySmtpError(error), error.message).toMatchObject({ relay: true });
    const reader = [
      { responseCode: 421, response: '421 4.7.0 try again later', command: 'RCPT TO' },
      { responseCode: 452, response: '452 4.2.2 mailbox full', command: 'RCPT TO' },
      { responseCode: 550, response: '550 5.1.1 user unknown', command: 'RCPT TO' },
    ];
    for (const error of reader) expect(classifySmtpError(error).relay).toBeUndefined();
  });
});
