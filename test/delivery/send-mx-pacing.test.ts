import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { messageFactoryFor } from '../../src/delivery/edition-messages.ts';
import {
  type MxLookup,
  preferredMxHost,
  providerKeyOf,
  sendProviderKeys,
} from '../../src/delivery/mx-pacing.ts';
import { runWorker } from '../../src/delivery/send-worker.ts';
import { startSend } from '../../src/delivery/start-send.ts';
import { createDnsResolver } from '../../src/doctor/dns-resolver.ts';
import { createMailer } from '../../src/mail/create-mailer.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type DnsServer, startDnsServer } from '../support/dns-server.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { type SeededSend, seedSend, testConfig } from './send-fixtures.ts';

const LIMIT = 10;
const PROVIDER_DOMAINS = ['alpha.test', 'beta.test', 'gamma.test'];

describe('pacing by mailbox provider (mx: keys of SEND_DOMAIN_LIMITS)', () => {
  let test: TestDatabase;
  let seeded: SeededSend;
  let sink: SmtpSink;
  let dns: DnsServer;
  let arrivals: Array<{ domain: string; at: number }>;

  beforeEach(async () => {
    test = await createTestDatabase();
    seeded = await seedSend(test.db, 120);
    // Three of every four readers on three domains whose mail one provider takes; the rest on a domain
    // with no MX record (it stands for itself).
    for (const [i, domain] of PROVIDER_DOMAINS.entries()) {
      await sql`
        UPDATE subscribers SET email = replace(email, '@example.test', ${`@${domain}`}) WHERE id % 4 = ${i}
      `.execute(test.db);
    }
    await startSend(test.db, seeded.issueId, { messageIdDomain: 'news.example.test' });
    dns = await startDnsServer({
      'alpha.test': ['mx1.mail.provider.test', 'mx2.mail.provider.test'],
      'beta.test': ['mx1.mail.provider.test'],
      'gamma.test': ['inbound.provider.test'],
    });
    arrivals = [];
    sink = await startSmtpSink({
      onRcptTo(address) {
        arrivals.push({ domain: address.split('@')[1] as string, at: Date.now() });
        return undefined;
      },
    });
  });
  afterEach(async () => {
    await sink?.close();
    await dns?.close();
    await test?.close();
  });

  it('holds three domains on one provider to the provider’s limit together, across two workers', async () => {
    const config = testConfig({ SMTP_URL: sink.url, SEND_DOMAIN_LIMITS: `mx:provider.test=${LIMIT}` });
    const resolver = createDnsResolver(dns.address);
    const mxLookup: MxLookup = (domain) => resolver(domain, 'MX') as unknown as ReturnType<MxLookup>;
    const mailer = createMailer(config);
    try {
      const worker = (workerId: string) =>
        runWorker({
          db: test.db,
          mailer,
          config,
          workerId,
          issueId: seeded.issueId,
          messages: async () => messageFactoryFor(seeded.content, config),
          pollMs: 20,
          batchSize: 20,
          mxLookup,
        });
      const [one, two] = await Promise.all([worker('mx-1'), worker('mx-2')]);
      expect(one.sent + two.sent).toBe(120);
    } finally {
      await mailer.close();
    }
    // Each domain was asked once for the send, though two workers started on it.
    for (const domain of [...PROVIDER_DOMAINS, 'example.test'])
      expect(dns.mxQuestions.filter((name) => name === domain)).toHaveLength(1);
    const stored = await sql<{ domain: string; mx_host: string }>`
      SELECT domain, mx_host FROM send_mx_hosts WHERE issue_id = ${seeded.issueId} ORDER BY domain
    `.execute(test.db);
    expect(stored.rows).toEqual([
      { domain: 'alpha.test', mx_host: 'mx1.mail.provider.test' },
      { domain: 'beta.test', mx_host: 'mx1.mail.provider.test' },
      { domain: 'example.test', mx_host: 'example.test' },
      { domain: 'gamma.test', mx_host: 'inbound.provider.test' },
    ]);

    const provider = arrivals.filter((a) => PROVIDER_DOMAINS.includes(a.domain)).map((a) => a.at);
    const others = arrivals.filter((a) => !PROVIDER_DOMAINS.includes(a.domain)).map((a) => a.at);
    expect(provider).toHaveLength(90);
    expect(others).toHaveLength(30);
    // The provider's tokens, one row per second of database time shared by both workers: never more than the limit.
    const slots = await sql<{ domain: string; used: number }>`
      SELECT domain, used FROM send_domain_slots ORDER BY slot
    `.execute(test.db);
    expect(new Set(slots.rows.map((r) => r.domain))).toEqual(new Set(['mx:provider.test']));
    expect(slots.rows.reduce((sum, r) => sum + r.used, 0)).toBeGreaterThanOrEqual(90);
    expect(Math.max(...slots.rows.map((r) => r.used))).toBeLessThanOrEqual(LIMIT);
    // At the receiving end (reported, not asserted: on a loaded machine messages paced apart can arrive
    // bunched, so arrival times say more about the machine than about the gate, which the slots above prove).
    const perSecond = new Map<number, number>();
    for (const at of provider)
      perSecond.set(Math.floor(at / 1000), (perSecond.get(Math.floor(at / 1000)) ?? 0) + 1);
    const seconds = [...perSecond.keys()];
    const busiest = Math.max(...perSecond.values());
    const busiestThree = Math.max(
      ...seconds.map(
        (s) => (perSecond.get(s) ?? 0) + (perSecond.get(s + 1) ?? 0) + (perSecond.get(s + 2) ?? 0),
      ),
    );
    // 90 messages at 10 a second take about 9 s of the clock (unpaced, well under one)...
    const span = Math.max(...provider) - Math.min(...provider);
    expect(span).toBeGreaterThanOrEqual(6_000);
    // ...and the domain outside the provider was not held behind them.
    expect(Math.max(...others)).toBeLessThan(Math.max(...provider));
    console.info(
      `mx pacing: 90 messages to 3 domains of one provider in ${(span / 1000).toFixed(1)} s, busiest second ${busiest}, busiest three seconds ${busiestThree} (limit ${LIMIT}/s)`,
    );
  }, 60_000);
});

describe('resolving a send’s MX hosts', () => {
  it('names the provider by the longest matching suffix of the preferred MX host', () => {
    expect(providerKeyOf('ASPMX.L.Google.com.', ['google.com', 'outlook.com'])).toBe('mx:google.com');
    expect(providerKeyOf('x.mail.protection.outlook.com', ['outlook.com', 'protection.outlook.com'])).toBe(
      'mx:protection.outlook.com',
    );
    expect(providerKeyOf('notgoogle.com', ['google.com'])).toBeUndefined();
    expect(
      preferredMxHost('a.test', [
        { exchange: 'b.mx.test', priority: 20 },
        { exchange: 'A.MX.test.', priority: 10 },
      ]),
    ).toBe('a.mx.test');
    expect(preferredMxHost('a.test', [{ exchange: '.', priority: 0 }])).toBe('a.test');
  });

  it('keeps to its time budget: a domain whose DNS never answers stands for itself', async () => {
    const test = await createTestDatabase();
    const dns = await startDnsServer({ 'alpha.test': ['mx.provider.test'] }, ['example.test']);
    try {
      const seeded = await seedSend(test.db, 8);
      await sql`
        UPDATE subscribers SET email = replace(email, '@example.test', '@alpha.test') WHERE id % 2 = 0
      `.execute(test.db);
      await startSend(test.db, seeded.issueId, { messageIdDomain: 'news.example.test' });
      const resolver = createDnsResolver(dns.address);
      const lookup: MxLookup = (domain) => resolver(domain, 'MX') as unknown as ReturnType<MxLookup>;
      const started = performance.now();
      const keys = await sendProviderKeys(test.db, seeded.issueId, ['provider.test'], lookup, {
        budgetMs: 1000,
        lookupTimeoutMs: 500,
      });
      expect(performance.now() - started).toBeLessThan(2000);
      expect(keys).toEqual(new Map([['alpha.test', 'mx:provider.test']]));
      const stored = await sql<{ domain: string; mx_host: string }>`
        SELECT domain, mx_host FROM send_mx_hosts ORDER BY domain
      `.execute(test.db);
      expect(stored.rows).toEqual([
        { domain: 'alpha.test', mx_host: 'mx.provider.test' },
        { domain: 'example.test', mx_host: 'example.test' },
      ]);
    } finally {
      await dns.close();
      await test.close();
    }
  }, 30_000);
});
