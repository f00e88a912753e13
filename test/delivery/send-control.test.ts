import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.ts';
import { claimDeliveries, deliveryCounts } from '../../src/delivery/delivery.repository.ts';
import { messageFactoryFor } from '../../src/delivery/edition-messages.ts';
import { cancelSend, pauseSend, resumeSend } from '../../src/delivery/send-control.ts';
import { reserveSendTokens } from '../../src/delivery/send-rate.ts';
import { runWorker } from '../../src/delivery/send-worker.ts';
import { startSend } from '../../src/delivery/start-send.ts';
import { createSmtpMailer } from '../../src/mail/smtp-mailer.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { type SeededSend, seedSend, testConfig } from './send-fixtures.ts';

describe('controlling a send in progress', () => {
  let test: TestDatabase;
  let seeded: SeededSend;
  let sink: SmtpSink;
  let config: Config;
  /** Runs once when the n-th RCPT TO arrives, before the server answers it. */
  let onNthRecipient: { n: number; run: () => Promise<unknown> } | undefined;

  beforeEach(async () => {
    test = await createTestDatabase();
    seeded = await seedSend(test.db, 30);
    await startSend(test.db, seeded.issueId, { messageIdDomain: 'news.example.test' });
    let count = 0;
    onNthRecipient = undefined;
    sink = await startSmtpSink({
      serverOptions: {
        onRcptTo(
          _address: SMTPServerAddress,
          _session: SMTPServerSession,
          callback: (error?: Error) => void,
        ) {
          count++;
          const hook = onNthRecipient;
          if (hook && count === hook.n) hook.run().then(() => callback(), callback);
          else callback();
        },
      },
    });
    config = testConfig({ SMTP_URL: sink.url });
  });
  afterEach(async () => {
    await sink?.close();
    await test?.close();
  });

  async function work(
    workerId: string,
    extra: { batchSize?: number; concurrency?: number; leaseSeconds?: number } = {},
  ) {
    const mailer = createSmtpMailer({ url: sink.url, maxConnections: 1 });
    try {
      return await runWorker({
        db: test.db,
        mailer,
        config,
        workerId,
        issueId: seeded.issueId,
        messages: async () => messageFactoryFor(seeded.content, config),
        batchSize: 5,
        concurrency: 1,
        pollMs: 50,
        ...extra,
      });
    } finally {
      await mailer.close();
    }
  }

  const received = () => sink.messages.map((m) => m.envelopeTo[0] as string);

  it('honours an unsubscribe that arrives mid-send: the subscriber is skipped, not mailed', async () => {
    const leaver = 'reader29@example.test';
    onNthRecipient = {
      n: 3,
      run: () =>
        test.db
          .updateTable('subscribers')
          .set({ status: 'unsubscribed' })
          .where('email', '=', leaver)
          .execute(),
    };
    const summary = await work('w1');
    expect(summary).toMatchObject({ sent: 29, skipped: 1 });
    expect(received()).not.toContain(leaver);
    const row = await test.db
      .selectFrom('deliveries')
      .select(['status', 'last_error'])
      .where('subscriber_id', '=', seeded.subscribers.get(leaver) as string)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'skipped', last_error: 'subscriber is unsubscribed' });
  });

  it('stops at a pause and finishes after resume, nobody mailed twice', async () => {
    onNthRecipient = { n: 7, run: () => pauseSend(test.db, seeded.issueId, 'operator pause') };
    const first = await work('w1');
    expect(first.stoppedBecause).toBe(`issue 2026-W48 is paused: operator pause`);
    expect(first.sent).toBeLessThan(30);
    expect((await deliveryCounts(test.db, seeded.issueId)).queued).toBe(30 - first.sent);
    expect(await resumeSend(test.db, seeded.issueId)).toBe(true);
    const second = await work('w2');
    expect(first.sent + second.sent).toBe(30);
    expect(new Set(received()).size).toBe(30);
    expect(received()).toHaveLength(30);
  });

  it('cancels: queued deliveries become cancelled and the worker stops', async () => {
    onNthRecipient = { n: 4, run: () => cancelSend(test.db, seeded.issueId, 'wrong issue') };
    const summary = await work('w1');
    expect(summary.stoppedBecause).toMatch(/cancelled/);
    const counts = await deliveryCounts(test.db, seeded.issueId);
    expect(counts.sent).toBe(summary.sent);
    expect(counts.sent + counts.cancelled).toBe(30);
    // The cancel commits while the worker runs on (batches of 5): the batch in hand, and at most one
    // claimed before the cancel landed, still go out; nothing after that.
    expect(counts.cancelled).toBeGreaterThanOrEqual(15);
    expect(received()).toHaveLength(summary.sent);
  });

  it('a batch leased by a worker that died goes back to the queue when its lease expires', async () => {
    // A worker claims ten deliveries and is never heard of again (a SIGKILL between claim and send).
    const dead = await claimDeliveries(test.db, {
      issueId: seeded.issueId,
      workerId: 'dead',
      afterId: '0',
      limit: 10,
      leaseSeconds: 1,
    });
    expect(dead.deliveries).toHaveLength(10);
    const summary = await work('w2', { batchSize: 50, concurrency: 2 });
    expect(summary.sent).toBe(30);
    expect([...received()].sort()).toEqual([...seeded.subscribers.keys()].sort());
    const taken = await test.db
      .selectFrom('deliveries')
      .select(['attempts'])
      .where(
        'id',
        'in',
        dead.deliveries.map((d) => d.id),
      )
      .execute();
    expect(taken.every((row) => row.attempts === 2)).toBe(true);
    const issue = await test.db
      .selectFrom('issues')
      .select('status')
      .where('id', '=', seeded.issueId)
      .executeTakeFirstOrThrow();
    expect(issue.status).toBe('sent');
  });
});

describe('the global send rate', () => {
  it('never grants more tokens in one second than the rate, whoever asks', async () => {
    const test = await createTestDatabase();
    try {
      const grants: Array<{ slot: string; granted: number }> = [];
      for (let i = 0; i < 12; i++) grants.push(await reserveSendTokens(test.db, 4, 10));
      const perSlot = new Map<string, number>();
      for (const { slot, granted } of grants) perSlot.set(slot, (perSlot.get(slot) ?? 0) + granted);
      for (const total of perSlot.values()) expect(total).toBeLessThanOrEqual(10);
      // Twelve asks for 4 cannot all fit in the slots they touched: some were refused or cut.
      expect(grants.some(({ granted }) => granted < 4)).toBe(true);
      const rows = await test.db.selectFrom('send_rate_slots').select('used').execute();
      expect(rows.every((row) => row.used <= 10)).toBe(true);
    } finally {
      await test.close();
    }
  });
});
