import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.ts';
import { guardVerdict } from '../../src/delivery/deliverability-guard.ts';
import { deliveryCounts } from '../../src/delivery/delivery.repository.ts';
import { messageFactoryFor } from '../../src/delivery/edition-messages.ts';
import { loadSendingIssue, resumeSend } from '../../src/delivery/send-control.ts';
import { runWorker } from '../../src/delivery/send-worker.ts';
import { startSend } from '../../src/delivery/start-send.ts';
import { createMailer } from '../../src/mail/create-mailer.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { type SeededSend, seedSend, testConfig } from './send-fixtures.ts';

describe('deliverability guard', () => {
  let test: TestDatabase;
  let seeded: SeededSend;
  let sink: SmtpSink;

  beforeEach(async () => {
    test = await createTestDatabase();
    seeded = await seedSend(test.db, 600);
    await startSend(test.db, seeded.issueId, { messageIdDomain: 'news.example.test' });
    // One recipient in ten does not exist.
    sink = await startSmtpSink({
      onRcptTo: (address) =>
        Number(/reader(\d+)@/.exec(address)?.[1]) % 10 === 0
          ? Object.assign(new Error('5.1.1 No such user here'), { responseCode: 550 })
          : undefined,
    });
  });
  afterEach(async () => {
    await sink?.close();
    await test?.close();
  });

  it('pauses a send whose hard bounces pass SEND_MAX_BOUNCE_RATE after 500 attempts, says why, and resume continues', async () => {
    const config = testConfig({ SMTP_URL: sink.url, SEND_MAX_BOUNCE_RATE: '5%' });
    const run = async () => {
      const mailer = createMailer(config);
      try {
        return await runWorker({
          db: test.db,
          mailer,
          config,
          workerId: 'guarded',
          issueId: seeded.issueId,
          messages: async () => messageFactoryFor(seeded.content, config),
          guardIntervalMs: 50,
          batchSize: 50,
          pollMs: 20,
        });
      } finally {
        await mailer.close();
      }
    };
    const first = await run();
    expect(first.fatal).toMatch(
      /^deliverability guard: hard bounces at \d+(\.\d+)? % of \d+ attempts, over SEND_MAX_BOUNCE_RATE 5 %$/,
    );
    const paused = await loadSendingIssue(test.db, { id: seeded.issueId });
    expect(paused?.status).toBe('paused');
    expect(paused?.statusReason).toBe(first.fatal);
    const counts = await deliveryCounts(test.db, seeded.issueId);
    expect(counts.sent + counts.bounced).toBeGreaterThanOrEqual(500);
    expect(counts.queued).toBeGreaterThan(0);

    // The operator looked and resumed: the guard judges afresh from here, and the send finishes.
    expect(await resumeSend(test.db, seeded.issueId)).toBe(true);
    const second = await run();
    expect(second.fatal).toBeUndefined();
    const done = await loadSendingIssue(test.db, { id: seeded.issueId });
    expect(done?.status).toBe('sent');
    const final = await deliveryCounts(test.db, seeded.issueId);
    expect(final).toMatchObject({ queued: 0, sent: 540, bounced: 60 });
  });

  it('judges nothing before 500 attempts, then bounces and complaints against their own limits', () => {
    const limits = { maxBounceRate: 0.05, maxComplaintRate: 0.003 };
    expect(guardVerdict({ attempts: 499, bounced: 499, complaints: 499 }, limits)).toBeNull();
    expect(guardVerdict({ attempts: 1000, bounced: 50, complaints: 3 }, limits)).toBeNull();
    expect(guardVerdict({ attempts: 1000, bounced: 51, complaints: 0 }, limits)).toMatch(
      /hard bounces at 5.1 %/,
    );
    expect(guardVerdict({ attempts: 1000, bounced: 0, complaints: 4 }, limits)).toBe(
      'deliverability guard: complaints at 0.4 % of 1000 attempts, over SEND_MAX_COMPLAINT_RATE 0.3 %',
    );
  });

  it('reads the rates as percentages and refuses anything else, naming the variable', () => {
    const config = testConfig({ SEND_MAX_BOUNCE_RATE: '2.5%', SEND_MAX_COMPLAINT_RATE: '0.1 %' });
    expect(config.send.maxBounceRate).toBeCloseTo(0.025);
    expect(config.send.maxComplaintRate).toBeCloseTo(0.001);
    expect(testConfig().send).toMatchObject({ maxBounceRate: 0.05, maxComplaintRate: 0.003 });
    expect(() => testConfig({ SEND_MAX_BOUNCE_RATE: '0.05' })).toThrow(ConfigError);
    expect(() => testConfig({ SEND_MAX_COMPLAINT_RATE: '150%' })).toThrow(/SEND_MAX_COMPLAINT_RATE/);
  });
});
