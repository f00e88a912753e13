import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/database.ts';
import { subjectRule } from '../../src/delivery/drain-issue.ts';
import { messageFactoryFor } from '../../src/delivery/edition-messages.ts';
import { sendIssue } from '../../src/delivery/send-issue.ts';
import { runWorker } from '../../src/delivery/send-worker.ts';
import { startSend } from '../../src/delivery/start-send.ts';
import { decideSubjectTest, twoProportionPValue } from '../../src/delivery/subject-decision.ts';
import {
  decideDueSubjectTest,
  loadSubjectTest,
  splitAudience,
} from '../../src/delivery/subject-test.repository.ts';
import { loadIssueContent } from '../../src/issues/issue-content.repository.ts';
import { saveSubjectVariant } from '../../src/issues/subject-variants.repository.ts';
import { createSmtpMailer } from '../../src/mail/smtp-mailer.ts';
import { insertTrackingEvents } from '../../src/tracking/event-rollups.ts';
import { createTestDatabase, secondConnection, type TestDatabase } from '../support/database.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { seedSend, testConfig } from './send-fixtures.ts';

const SUBJECT_B = 'Variant B: what changed in AI this week';
const SUBJECT_C = 'Variant C: seven stories, three minutes';

/** Each group's rows of an issue, by subject_group. */
async function groups(db: Db, issueId: number): Promise<Map<string, string[]>> {
  const rows = await db
    .selectFrom('deliveries')
    .select(['subscriber_id', 'subject_group'])
    .where('issue_id', '=', issueId)
    .execute();
  const byGroup = new Map<string, string[]>();
  for (const row of rows) {
    const list = byGroup.get(row.subject_group ?? 'none') ?? [];
    list.push(row.subscriber_id);
    byGroup.set(row.subject_group ?? 'none', list);
  }
  return byGroup;
}

/** The time of the test has come (instead of waiting SUBJECT_TEST_HOURS). */
async function endTestPhase(db: Db, issueId: number): Promise<void> {
  await sql`UPDATE subject_tests SET decide_at = now() - interval '1 second' WHERE issue_id = ${issueId}`.execute(
    db,
  );
  await sql`UPDATE deliveries SET not_before = now() - interval '1 second' WHERE issue_id = ${issueId} AND subject_group = 'held'`.execute(
    db,
  );
}

describe('subject tests', () => {
  let test: TestDatabase;
  let sink: SmtpSink;

  // A database of its own per test: a send freezes every active reader of the database.
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await sink?.close();
  });
  beforeEach(async () => {
    test = await createTestDatabase();
  });
  afterEach(async () => {
    await test?.close();
  });

  it('splits 20 % of the tracked audience of 10,000 evenly over three variants; untracked readers are held', async () => {
    const { db } = test;
    const seeded = await seedSend(db, 10_000, { week: '2026-W40' });
    // One reader in ten does not want their opens and clicks counted: never in a test group.
    await sql`UPDATE subscribers SET tracking_enabled = false WHERE id % 10 = 0`.execute(db);
    const started = performance.now();
    await startSend(db, seeded.issueId, {
      messageIdDomain: 'news.example.test',
      subjectTest: { variants: ['A', 'B', 'C'], share: 0.2, hours: 4 },
    });
    const freezeMs = Math.round(performance.now() - started);
    const byGroup = await groups(db, seeded.issueId);
    const tracked = await db
      .selectFrom('deliveries')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('issue_id', '=', seeded.issueId)
      .where('tracked', '=', true)
      .executeTakeFirstOrThrow();
    const trackedCount = Number(tracked.n);
    const inTest = ['A', 'B', 'C'].map((g) => byGroup.get(g)?.length ?? 0);
    const share = inTest.reduce((a, b) => a + b, 0) / trackedCount;
    console.log(
      `split of 10,000 (${trackedCount} tracked): A ${inTest[0]}, B ${inTest[1]}, C ${inTest[2]}, held ${byGroup.get('held')?.length}; share ${(share * 100).toFixed(2)} %; freeze ${freezeMs} ms`,
    );
    expect(Math.abs(share - 0.2)).toBeLessThanOrEqual(0.02);
    for (const n of inTest) expect(Math.abs(n / trackedCount - 0.2 / 3)).toBeLessThanOrEqual(0.02);
    // One row per reader (no reader in two groups), every row in a group.
    expect(byGroup.get('none')).toBeUndefined();
    const all = [...byGroup.values()].flat();
    expect(new Set(all).size).toBe(all.length);
    // Untracked readers are all held for the winner.
    const untrackedInTest = await sql<{ n: string }>`
      SELECT count(*) AS n FROM deliveries WHERE issue_id = ${seeded.issueId} AND NOT tracked AND subject_group <> 'held'
    `.execute(db);
    expect(Number(untrackedInTest.rows[0]?.n)).toBe(0);
    const held = await sql<{ n: string; pending: string }>`
      SELECT count(*) AS n, count(*) FILTER (WHERE subject_variant IS NULL AND not_before > now()) AS pending
      FROM deliveries WHERE issue_id = ${seeded.issueId} AND subject_group = 'held'
    `.execute(db);
    expect(held.rows[0]?.pending).toBe(held.rows[0]?.n);

    // Salted per issue: the same readers frozen for another issue land elsewhere.
    const first = { id: seeded.issueId };
    const next = await seedSend(db, 0, { week: '2026-W41' });
    // The same readers, frozen for a second issue.
    await sql`
      INSERT INTO deliveries (issue_id, subscriber_id, segment_key, message_id, tracked)
      SELECT ${next.issueId}, subscriber_id, segment_key, replace(message_id, '2026-W40', '2026-W41'), tracked
      FROM deliveries WHERE issue_id = ${first.id}
    `.execute(db);
    await db
      .transaction()
      .execute((trx) =>
        splitAudience(trx, next.issueId, { variants: ['A', 'B', 'C'], share: 0.2, hours: 4 }),
      );
    const same = await sql<{ n: string; test: string }>`
      SELECT count(*) FILTER (WHERE a.subject_group <> 'held' AND b.subject_group <> 'held') AS n,
        count(*) FILTER (WHERE a.subject_group <> 'held') AS test
      FROM deliveries a JOIN deliveries b ON b.subscriber_id = a.subscriber_id AND b.issue_id = ${next.issueId}
      WHERE a.issue_id = ${first.id}
    `.execute(db);
    // Independent draws: about a fifth of last issue's test group is in this one's, not all of it.
    expect(Number(same.rows[0]?.n)).toBeLessThan(Number(same.rows[0]?.test) * 0.4);
  });

  it('the decision: human clicks decide, scanner clicks do not count; too little data falls back to A', () => {
    const rule = { minHumanClicks: 20, confidence: 0.95 };
    const clear = decideSubjectTest(
      [
        { variant: 'A', readers: 300, delivered: 300, humanClickers: 24, humanOpeners: 200 },
        { variant: 'B', readers: 300, delivered: 300, humanClickers: 75, humanOpeners: 120 },
      ],
      rule,
    );
    expect(clear.winner).toBe('B');
    expect(clear.comparisons).toBe(1);
    const three = decideSubjectTest(
      [
        { variant: 'A', readers: 300, delivered: 300, humanClickers: 30, humanOpeners: 100 },
        { variant: 'B', readers: 300, delivered: 300, humanClickers: 44, humanOpeners: 100 },
        { variant: 'C', readers: 300, delivered: 300, humanClickers: 28, humanOpeners: 100 },
      ],
      rule,
    );
    // B leads, but 44 vs 30 of 300 is not significant at 0.05 / 3.
    expect(three.comparisons).toBe(3);
    expect(three.winner).toBe('A');
    expect(three.reason).toMatch(/not significantly/);
    const few = decideSubjectTest(
      [
        { variant: 'A', readers: 50, delivered: 50, humanClickers: 2, humanOpeners: 10 },
        { variant: 'B', readers: 50, delivered: 50, humanClickers: 19, humanOpeners: 10 },
      ],
      rule,
    );
    expect(few).toMatchObject({ winner: 'A' });
    expect(few.reason).toMatch(/too little data: A had 2, B had 19 human clicks, at least 20/);
    // Equal click rates: the open rate breaks the tie of the ranking (the z-test still needs a difference).
    const tie = decideSubjectTest(
      [
        { variant: 'A', readers: 300, delivered: 300, humanClickers: 40, humanOpeners: 90 },
        { variant: 'B', readers: 300, delivered: 300, humanClickers: 40, humanOpeners: 150 },
      ],
      rule,
    );
    expect(tie.winner).toBe('A');
    expect(tie.reason).toMatch(/variant B led/);
    expect(twoProportionPValue(75, 300, 24, 300)).toBeLessThan(0.0001);
    expect(twoProportionPValue(40, 300, 40, 300)).toBeCloseTo(1, 6);
  });

  it('test phase over SMTP, winner by human clicks (scanner clicks for the loser ignored), the held rows sent once with the winner’s subject', async () => {
    const { db } = test;
    await saveSubjectVariant(db, '2026-W42', 'B', { subject: SUBJECT_B, preheader: null }, 'cli');
    const seeded = await seedSend(db, 1200, { week: '2026-W42', offset: 20_000 });
    // A few readers are untracked: they get the winner with the held rows.
    const untracked = [...seeded.subscribers.values()].slice(0, 10);
    await db
      .updateTable('subscribers')
      .set({ tracking_enabled: false })
      .where('id', 'in', untracked)
      .execute();
    const config = testConfig({ SMTP_URL: sink.url, SUBJECT_TEST_SHARE: '50%' });
    const mailer = createSmtpMailer({ url: sink.url, maxConnections: 3 });
    const content = await loadIssueContent(db, '2026-W42', 'UTC');
    expect(content?.subjectVariants).toEqual([{ variant: 'B', subject: SUBJECT_B, preheader: null }]);
    const factory = messageFactoryFor(content as NonNullable<typeof content>, config);
    const received = () => sink.messages.filter((m) => m.parsed.messageId?.startsWith('<recap.2026-W42.'));
    try {
      // Through sendIssue, as `recap send` runs it: the test share goes out, the rest waits.
      const first = await sendIssue({ db, config, mailer }, '2026-W42', { messages: factory });
      expect(first.waiting?.subjectTest).toBe(true);
      const byGroup = await groups(db, seeded.issueId);
      const a = byGroup.get('A') ?? [];
      const b = byGroup.get('B') ?? [];
      const held = byGroup.get('held') ?? [];
      expect(first.sent).toBe(a.length + b.length);
      expect(received()).toHaveLength(a.length + b.length);
      const subjectOf = new Map(received().map((m) => [m.envelopeTo[0], m.parsed.subject]));
      const emailOf = new Map([...seeded.subscribers].map(([email, id]) => [id, email] as const));
      for (const id of b) expect(subjectOf.get(emailOf.get(id))).toBe(SUBJECT_B);
      for (const id of a) expect(subjectOf.get(emailOf.get(id))).not.toBe(SUBJECT_B);

      // The readers: a quarter of B clicks, a twelfth of A; scanners click for most of A.
      const human = (ids: string[], every: number, kind: 'click' | 'open') =>
        ids
          .filter((_, i) => i % every === 0)
          .map((id) => ({
            kind,
            issue_id: seeded.issueId,
            subscriber_id: id,
            class: 'human' as const,
            link_position: 1,
          }));
      await insertTrackingEvents(db, [
        ...human(b, 4, 'click'),
        ...human(a, 12, 'click'),
        ...human(a, 2, 'open'),
        ...a.map((id) => ({
          kind: 'click' as const,
          issue_id: seeded.issueId,
          subscriber_id: id,
          class: 'scanner' as const,
          link_position: 2,
        })),
        ...a.map((id) => ({
          kind: 'click' as const,
          issue_id: seeded.issueId,
          subscriber_id: id,
          class: 'machine' as const,
          link_position: 3,
        })),
      ]);
      // Before its time the test is not decided.
      expect(await decideDueSubjectTest(db, seeded.issueId, subjectRule(config))).toBeNull();
      await endTestPhase(db, seeded.issueId);
      const decision = await decideDueSubjectTest(db, seeded.issueId, subjectRule(config));
      expect(decision?.winner).toBe('B');
      const state = await loadSubjectTest(db, seeded.issueId);
      expect(state).toMatchObject({ winner: 'B', held: held.length });
      expect(state?.reason).toMatch(/variant B won/);
      const figuresA = state?.figures.find((f) => f.variant === 'A');
      expect(figuresA?.humanClickers).toBe(Math.ceil(a.length / 12));
      console.log(`subject test over SMTP: ${JSON.stringify(state?.figures)}; ${state?.reason}`);

      // The rest goes out once, with B's subject.
      const second = await runWorker({
        db,
        mailer,
        config,
        workerId: 'w2',
        issueId: seeded.issueId,
        messages: async () => factory,
      });
      expect(second.sent).toBe(held.length);
      const copies = new Map<string, number>();
      for (const message of received())
        copies.set(message.envelopeTo[0] as string, (copies.get(message.envelopeTo[0] as string) ?? 0) + 1);
      expect(copies.size).toBe(1200);
      expect([...copies.values()].every((n) => n === 1)).toBe(true);
      const finalSubject = new Map(received().map((m) => [m.envelopeTo[0], m.parsed.subject]));
      for (const id of held) expect(finalSubject.get(emailOf.get(id))).toBe(SUBJECT_B);
      const issue = await db
        .selectFrom('issues')
        .select('status')
        .where('id', '=', seeded.issueId)
        .executeTakeFirstOrThrow();
      expect(issue.status).toBe('sent');
      // Run again: nothing more.
      const third = await sendIssue({ db, config, mailer }, '2026-W42', { messages: factory });
      expect(third.sent).toBe(0);
      expect(received()).toHaveLength(1200);
    } finally {
      await mailer.close();
    }
  }, 60_000);

  it('too little data: variant A goes to the rest, the reason stored', async () => {
    const { db } = test;
    const seeded = await seedSend(db, 200, { week: '2026-W43', offset: 30_000 });
    await startSend(db, seeded.issueId, {
      messageIdDomain: 'news.example.test',
      subjectTest: { variants: ['A', 'B', 'C'], share: 0.3, hours: 4 },
    });
    await sql`UPDATE deliveries SET status = 'sent' WHERE issue_id = ${seeded.issueId} AND subject_group <> 'held'`.execute(
      db,
    );
    const b = (await groups(db, seeded.issueId)).get('B') ?? [];
    await insertTrackingEvents(
      db,
      b.slice(0, 5).map((id) => ({
        kind: 'click' as const,
        issue_id: seeded.issueId,
        subscriber_id: id,
        class: 'human' as const,
      })),
    );
    await endTestPhase(db, seeded.issueId);
    const decision = await decideDueSubjectTest(db, seeded.issueId, { minHumanClicks: 20, confidence: 0.95 });
    expect(decision?.winner).toBe('A');
    const state = await loadSubjectTest(db, seeded.issueId);
    expect(state?.winner).toBe('A');
    expect(state?.reason).toMatch(/^too little data: A had 0, B had 5, C had 0 human clicks/);
    const heldWithA = await sql<{ n: string }>`
      SELECT count(*) AS n FROM deliveries WHERE issue_id = ${seeded.issueId} AND subject_group = 'held' AND subject_variant = 'A' AND not_before IS NULL
    `.execute(db);
    expect(Number(heldWithA.rows[0]?.n)).toBe(state?.held);
  });

  it('two deciders racing decide once', async () => {
    const { db } = test;
    const seeded = await seedSend(db, 300, { week: '2026-W44', offset: 40_000 });
    await startSend(db, seeded.issueId, {
      messageIdDomain: 'news.example.test',
      subjectTest: { variants: ['A', 'B'], share: 0.5, hours: 4 },
    });
    await endTestPhase(db, seeded.issueId);
    const other = test.url ? secondConnection(test.url) : db;
    try {
      const rule = { minHumanClicks: 20, confidence: 0.95 };
      const results = await Promise.all([
        ...Array.from({ length: 4 }, () => decideDueSubjectTest(db, seeded.issueId, rule)),
        ...Array.from({ length: 4 }, () => decideDueSubjectTest(other, seeded.issueId, rule)),
      ]);
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      const state = await loadSubjectTest(db, seeded.issueId);
      expect(state?.decidedAt).toBeInstanceOf(Date);
    } finally {
      if (other !== db) await other.destroy();
    }
  });

  it('a subject test with RECAP_DELIVERY=local is refused in one line', async () => {
    const { db } = test;
    await saveSubjectVariant(db, '2026-W45', 'C', { subject: SUBJECT_C, preheader: 'Short preview' }, 'cli');
    await seedSend(db, 10, { week: '2026-W45', offset: 50_000 });
    const config = testConfig({ SMTP_URL: sink.url, RECAP_DELIVERY: 'local' });
    const mailer = createSmtpMailer({ url: sink.url, maxConnections: 1 });
    try {
      await expect(sendIssue({ db, config, mailer }, '2026-W45')).rejects.toThrow(
        /^issue 2026-W45 has subject variants: a subject test cannot run with RECAP_DELIVERY=local in this version$/,
      );
    } finally {
      await mailer.close();
    }
  });
});
