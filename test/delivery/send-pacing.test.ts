import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.ts';
import { ConfigError } from '../../src/config.ts';
import { messageFactoryFor } from '../../src/delivery/edition-messages.ts';
import { runWorker } from '../../src/delivery/send-worker.ts';
import { startSend } from '../../src/delivery/start-send.ts';
import { createMailer } from '../../src/mail/create-mailer.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type SmtpSink, type SmtpSinkOptions, startSmtpSink } from '../support/smtp-sink.ts';
import { type SeededSend, seedSend, testConfig, WEEK } from './send-fixtures.ts';

const PACED = 'paced.test';
const LIMIT = 1;

describe('per-domain pacing (SEND_DOMAIN_LIMITS)', () => {
  let test: TestDatabase;
  let seeded: SeededSend;
  let sink: SmtpSink | undefined;
  /** Every RCPT TO the server saw: domain and arrival time. */
  let arrivals: Array<{ domain: string; at: number }>;

  beforeEach(async () => {
    test = await createTestDatabase();
    seeded = await seedSend(test.db, 200);
    arrivals = [];
  });
  afterEach(async () => {
    await sink?.close();
    await test?.close();
  });

  /** Moves every `nth` subscriber (default every fourth) to `domain`. */
  async function moveQuarterTo(domain: string, nth = 4) {
    await sql`
      UPDATE subscribers SET email = replace(email, '@example.test', ${`@${domain}`}) WHERE id % ${nth} = 0
    `.execute(test.db);
  }

  async function startSink(onRcpt?: SmtpSinkOptions['onRcptTo']) {
    sink = await startSmtpSink({
      onRcptTo(address) {
        arrivals.push({ domain: address.split('@')[1] as string, at: Date.now() });
        return onRcpt?.(address);
      },
    });
    return sink;
  }

  async function send(config: Config, extra: { domainBackoffMs?: number } = {}) {
    const mailer = createMailer(config);
    try {
      return await runWorker({
        db: test.db,
        mailer,
        config,
        workerId: 'pacing-worker',
        issueId: seeded.issueId,
        messages: async () => messageFactoryFor(seeded.content, config),
        pollMs: 20,
        ...extra,
      });
    } finally {
      await mailer.close();
    }
  }

  it('holds the limited domain to its rate per second while the other domain finishes at full speed', async () => {
    await moveQuarterTo(PACED, 8);
    await startSend(test.db, seeded.issueId, { messageIdDomain: 'news.example.test' });
    const smtp = await startSink();
    const summary = await send(
      testConfig({ SMTP_URL: smtp.url, SEND_DOMAIN_LIMITS: `${PACED}=${LIMIT},other.test=1` }),
    );
    expect(summary.sent).toBe(200);
    const paced = arrivals.filter((a) => a.domain === PACED).map((a) => a.at);
    const others = arrivals.filter((a) => a.domain !== PACED).map((a) => a.at);
    expect(paced).toHaveLength(25);
    expect(others).toHaveLength(175);
    expect(arrivals.filter((a) => a.domain === 'other.test')).toHaveLength(0);
    // Tokens are handed out per second of database time: no second of arrivals carries more than the limit
    // (one more allowed for a message taken at the end of a second and arriving in the next).
    const perSecond = new Map<number, number>();
    for (const at of paced)
      perSecond.set(Math.floor(at / 1000), (perSecond.get(Math.floor(at / 1000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(LIMIT + 1);
    // 25 messages at 1 per second are spread over about 24 seconds of the clock (unpaced they would take
    // well under one); a token taken at a second's end may arrive in the next, so allow a few seconds less...
    expect(Math.max(...paced) - Math.min(...paced)).toBeGreaterThanOrEqual(20_000);
    // ...while the unlimited domain was not held behind them: it was done before the paced domain (a worker
    // waiting on the paced domain's tokens would have sent the others at its pace, finishing with it).
    expect(Math.max(...others)).toBeLessThan(Math.max(...paced));
  });

  // The receiving domain throttles for its first half second, then accepts. 421 closes the connection (nodemailer
  // may retry such a message itself on a fresh one); 451 4.7.1 keeps it, so every refusal reaches the worker.
  it.each([
    [421, '4.7.0 Too many messages from your IP, try again later'],
    [451, '4.7.1 Rate limited, try again later'],
  ])(
    'a %i for one domain backs off that domain alone: the others go on, the send neither fails nor pauses',
    async (code, text) => {
      await moveQuarterTo('busy.test');
      await startSend(test.db, seeded.issueId, { messageIdDomain: 'news.example.test' });
      let throttledUntil = 0;
      let refused = 0;
      const smtp = await startSink((address) => {
        if (!address.endsWith('@busy.test')) return undefined;
        if (throttledUntil === 0) throttledUntil = Date.now() + 500;
        if (Date.now() > throttledUntil) return undefined;
        refused++;
        return Object.assign(new Error(text), { responseCode: code });
      });
      // Two consecutive failures would pause a send: throttling answers must not count as failures.
      const summary = await send(testConfig({ SMTP_URL: smtp.url, SEND_MAX_CONSECUTIVE_FAILURES: '2' }), {
        domainBackoffMs: 300,
      });
      expect(refused).toBeGreaterThan(0);
      expect(summary.fatal).toBeUndefined();
      expect(summary.stoppedBecause).toBeUndefined();
      expect(summary.failed).toBe(0);
      expect(summary.sent).toBe(200);
      const issue = await test.db
        .selectFrom('issues')
        .select('status')
        .where('id', '=', seeded.issueId)
        .executeTakeFirstOrThrow();
      expect(issue.status).toBe('sent');
      // The other domain was sent once each, straight through; the throttled one was tried again.
      const attempts = await sql<{ domain: string; max: number }>`
      SELECT split_part(s.email, '@', 2) AS domain, max(d.attempts) AS max
      FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
      WHERE d.issue_id = ${seeded.issueId} GROUP BY 1 ORDER BY 1
    `.execute(test.db);
      expect(attempts.rows.map((r) => [r.domain, Number(r.max)])).toEqual([
        ['busy.test', code === 451 ? 2 : expect.any(Number)],
        ['example.test', 1],
      ]);
    },
  );

  it('every message carries a Feedback-ID (campaign, segment set, sender) and the same List-Id', async () => {
    await startSend(test.db, seeded.issueId, { messageIdDomain: 'news.example.test' });
    const smtp = await startSink();
    await send(testConfig({ SMTP_URL: smtp.url }));
    expect(smtp.messages).toHaveLength(200);
    const keys = new Map(
      (
        await test.db
          .selectFrom('deliveries')
          .innerJoin('subscribers', 'subscribers.id', 'deliveries.subscriber_id')
          .select(['subscribers.email', 'deliveries.segment_key'])
          .execute()
      ).map((r) => [r.email, r.segment_key]),
    );
    const listIds = new Set<string>();
    for (const message of smtp.messages) {
      const key = keys.get(message.envelopeTo[0] as string) as string;
      expect(message.parsed.headers.get('feedback-id')).toBe(
        `${WEEK}:${key}:newsletter:weekly-ai-recap.news.example.test`,
      );
      listIds.add(/^List-Id: (.*)$/im.exec(message.raw.toString('latin1'))?.[1] ?? 'missing');
    }
    expect(listIds.size).toBe(1);
    expect([...listIds][0]).toContain('weekly-ai-recap.news.example.test');
  });

  it('refuses a malformed SEND_DOMAIN_LIMITS at start-up, naming the variable', () => {
    expect(() => testConfig({ SEND_DOMAIN_LIMITS: 'gmail.com:20' })).toThrow(ConfigError);
    expect(() => testConfig({ SEND_DOMAIN_LIMITS: 'gmail.com=0' })).toThrow(/SEND_DOMAIN_LIMITS/);
    expect(testConfig({ SEND_DOMAIN_LIMITS: 'Gmail.com=20, yahoo.com=10' }).send.domainLimits).toEqual({
      'gmail.com': 20,
      'yahoo.com': 10,
    });
  });
});
