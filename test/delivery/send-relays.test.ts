import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { relaySentCounts } from '../../src/delivery/delivery.repository.ts';
import { messageFactoryFor } from '../../src/delivery/edition-messages.ts';
import { runWorker } from '../../src/delivery/send-worker.ts';
import { startSend } from '../../src/delivery/start-send.ts';
import { createMailer } from '../../src/mail/create-mailer.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { type SeededSend, seedSend, testConfig, WEEK } from './send-fixtures.ts';

/** Readers per test: the split is measured over this many messages. */
const READERS = 4000;

describe('several relays (SMTP_URLS)', () => {
  let test: TestDatabase;
  let seeded: SeededSend;
  let a: SmtpSink;
  let b: SmtpSink;
  /** Message-IDs whose data relay a took in, in the order it took them (before parsing and answering). */
  let arrivedAtA: string[];

  beforeEach(async () => {
    test = await createTestDatabase();
    seeded = await seedSend(test.db, READERS);
    await startSend(test.db, seeded.issueId, { messageIdDomain: 'news.example.test' });
    b = await startSmtpSink();
  });
  afterEach(async () => {
    await a?.close().catch(() => {});
    await b?.close().catch(() => {});
    await test?.close();
  });

  /** Relay a; `dataDelayMs` holds each message taken in unanswered that long, as a busy relay does. */
  async function startA(dataDelayMs = 0) {
    arrivedAtA = [];
    a = await startSmtpSink({
      dataDelayMs,
      onData(raw) {
        const id = /^Message-ID:\s*(<[^>]+>)/im.exec(raw.subarray(0, 8192).toString('latin1'))?.[1];
        if (id) arrivedAtA.push(id);
        return undefined;
      },
    });
  }

  function recapMessages(sink: SmtpSink) {
    return sink.messages.filter((m) => m.parsed.messageId?.startsWith(`<recap.${WEEK}.`));
  }

  async function send(weights: [number, number], whileSending?: () => Promise<void>) {
    const config = testConfig({
      SMTP_URLS: `${a.url}?weight=${weights[0]},${b.url}?weight=${weights[1]}`,
      SMTP_MAX_CONNECTIONS: '3',
    });
    const lines: string[] = [];
    const mailer = createMailer(config, { log: (line) => lines.push(line) });
    try {
      const started = performance.now();
      const running = runWorker({
        db: test.db,
        mailer,
        config,
        workerId: 'relays-worker',
        issueId: seeded.issueId,
        messages: async () => messageFactoryFor(seeded.content, config),
        pollMs: 20,
      });
      await whileSending?.();
      const summary = await running;
      return { summary, lines, ms: performance.now() - started };
    } finally {
      await mailer.close();
    }
  }

  async function issueStatus() {
    return (
      await test.db
        .selectFrom('issues')
        .select('status')
        .where('id', '=', seeded.issueId)
        .executeTakeFirstOrThrow()
    ).status;
  }

  it('splits a 4,000-message send 3:1 by weight, and counts each relay’s share', async () => {
    await startA();
    const { summary, ms } = await send([3, 1]);
    expect(summary.sent).toBe(READERS);
    const atA = recapMessages(a).length;
    const atB = recapMessages(b).length;
    expect(atA + atB).toBe(READERS);
    const share = atA / READERS;
    console.info(
      `relay split 3:1 over ${READERS}: a ${atA} (${(share * 100).toFixed(1)} %), b ${atB}, ${Math.round(ms)} ms`,
    );
    expect(share).toBeGreaterThanOrEqual(0.7);
    expect(share).toBeLessThanOrEqual(0.8);
    // The weight is ours: nodemailer never saw it (it would have read it as an option and still connected).
    const counts = await relaySentCounts(test.db, seeded.issueId);
    expect(counts).toEqual([
      { relay: `127.0.0.1:${a.port}`, sent: atA },
      { relay: `127.0.0.1:${b.port}`, sent: atB },
    ]);
    expect(await issueStatus()).toBe('sent');
  }, 120_000);

  it('a relay killed mid-send loses nothing and fails no reader; repeats are only messages in flight, with their Message-ID', async () => {
    await startA(20);
    let killedAfter = 0;
    let inFlight = new Set<string>();
    const { summary, lines } = await send([1, 1], async () => {
      while (recapMessages(a).length < 500) await new Promise((resolve) => setTimeout(resolve, 5));
      await a.kill();
      killedAfter = arrivedAtA.length;
      // One message per connection can be taken in but not yet answered: 3 pooled connections.
      inFlight = new Set(arrivedAtA.slice(-3));
    });
    expect(summary.fatal).toBeUndefined();
    expect(summary.stoppedBecause).toBeUndefined();
    expect(summary.failed).toBe(0);
    expect(summary.retried).toBe(0);
    expect(await issueStatus()).toBe('sent');
    const failed = await test.db
      .selectFrom('deliveries')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('issue_id', '=', seeded.issueId)
      .where('status', '<>', 'sent')
      .executeTakeFirstOrThrow();
    expect(Number(failed.n)).toBe(0);

    const copies = new Map<string, string[]>();
    for (const message of [...recapMessages(a), ...recapMessages(b)]) {
      const to = message.envelopeTo[0] as string;
      copies.set(to, [...(copies.get(to) ?? []), message.parsed.messageId as string]);
    }
    // Nobody lost.
    expect(copies.size).toBe(READERS);
    const repeated = [...copies.entries()].filter(([, ids]) => ids.length > 1);
    // A repeat is a message relay a took in but never answered for when it died (one per connection at
    // most), and the copy that went to b carries the same Message-ID.
    expect(repeated.length).toBeLessThanOrEqual(3);
    for (const [, ids] of repeated) {
      expect(ids).toHaveLength(2);
      expect(ids[0]).toBe(ids[1]);
      expect(inFlight.has(ids[0] as string)).toBe(true);
    }
    expect(arrivedAtA.length).toBe(killedAfter);
    const counts = new Map((await relaySentCounts(test.db, seeded.issueId)).map((c) => [c.relay, c.sent]));
    const sentViaB = counts.get(`127.0.0.1:${b.port}`) ?? 0;
    console.info(
      `relay killed after ${killedAfter} messages at a: ${READERS} of ${READERS} delivered, 0 failed, ${repeated.length} repeated (same Message-ID), b carried ${sentViaB}`,
    );
    expect(lines.some((line) => line.startsWith(`relay 127.0.0.1:${a.port} taken out`))).toBe(true);
  }, 120_000);
});
