import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deliveryCounts } from '../../src/delivery/delivery.repository.ts';
import { messageFactoryFor } from '../../src/delivery/edition-messages.ts';
import { localTimeWeek, rolloutDay } from '../../src/delivery/local-time.ts';
import { runWorker } from '../../src/delivery/send-worker.ts';
import { startSend } from '../../src/delivery/start-send.ts';
import { createMailer } from '../../src/mail/create-mailer.ts';
import { weekForSlot } from '../../src/schedule/schedule-slot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { type SeededSend, seedSend, testConfig } from './send-fixtures.ts';

const zones: Record<string, string | null> = {
  'reader0@example.test': 'Pacific/Kiritimati',
  'reader1@example.test': 'Europe/Berlin',
  'reader2@example.test': 'America/Los_Angeles',
  'reader3@example.test': null, // RECAP_TZ
  'reader4@example.test': 'Mars/Olympus_Mons', // unknown: RECAP_TZ
};

describe('local-time delivery (RECAP_DELIVERY=local)', () => {
  let test: TestDatabase;
  let seeded: SeededSend;

  beforeEach(async () => {
    test = await createTestDatabase();
    seeded = await seedSend(test.db, 5);
    for (const [email, zone] of Object.entries(zones))
      await test.db.updateTable('subscribers').set({ time_zone: zone }).where('email', '=', email).execute();
  });
  afterEach(async () => {
    await test?.close();
  });

  const local = {
    messageIdDomain: 'news.example.test',
    localTime: { time: '08:00', defaultTimeZone: 'Europe/Berlin' },
  };

  async function notBefore(issueId: number): Promise<Record<string, string>> {
    const rows = await test.db
      .selectFrom('deliveries')
      .innerJoin('subscribers', 'subscribers.id', 'deliveries.subscriber_id')
      .select(['subscribers.email', 'deliveries.not_before'])
      .where('deliveries.issue_id', '=', issueId)
      .execute();
    return Object.fromEntries(rows.map((r) => [r.email, (r.not_before as Date).toISOString()]));
  }

  async function frozen(week: string): Promise<Record<string, string>> {
    const issue = await seedSend(test.db, 0, { week });
    await startSend(test.db, issue.issueId, local);
    return notBefore(issue.issueId);
  }

  it('gives each delivery 08:00 local on the Monday after the week: Kiritimati first, Los Angeles last, unknown zones RECAP_TZ', async () => {
    expect(rolloutDay('2026-W48')).toBe('2026-11-30');
    await startSend(test.db, seeded.issueId, local);
    expect(await notBefore(seeded.issueId)).toEqual({
      // Sunday 18:00 UTC: week 48 is still under way in Berlin (until 23:00 UTC).
      'reader0@example.test': '2026-11-29T18:00:00.000Z',
      'reader1@example.test': '2026-11-30T07:00:00.000Z',
      'reader2@example.test': '2026-11-30T16:00:00.000Z',
      'reader3@example.test': '2026-11-30T07:00:00.000Z',
      'reader4@example.test': '2026-11-30T07:00:00.000Z',
    });
  });

  it('follows daylight saving time in Berlin and Los Angeles', async () => {
    // Berlin springs forward on Sunday 28 March 2027: 08:00 on Monday the 29th is CEST (UTC+2).
    expect((await frozen('2027-W11'))['reader1@example.test']).toBe('2027-03-22T07:00:00.000Z');
    expect((await frozen('2027-W12'))['reader1@example.test']).toBe('2027-03-29T06:00:00.000Z');
    // Los Angeles springs forward on 14 March 2027 (PST UTC−8 → PDT UTC−7).
    expect((await frozen('2027-W09'))['reader2@example.test']).toBe('2027-03-08T16:00:00.000Z');
    expect((await frozen('2027-W10'))['reader2@example.test']).toBe('2027-03-15T15:00:00.000Z');
    // Berlin falls back on Sunday 25 October 2026.
    expect((await frozen('2026-W42'))['reader1@example.test']).toBe('2026-10-19T06:00:00.000Z');
    expect((await frozen('2026-W43'))['reader1@example.test']).toBe('2026-10-26T07:00:00.000Z');
  });

  it('picks the week that will have ended by the next day, so a Sunday fire sends the week still ending in RECAP_TZ', () => {
    // Sunday 29 November 2026 17:00 Berlin (week 48 not over there yet): readers get it from Sunday 18:00 UTC.
    const sundayEvening = new Date('2026-11-29T16:00:00Z');
    expect(localTimeWeek(sundayEvening, 'Europe/Berlin')).toBe('2026-W48');
    // Without local time the same fire sends the last week fully ended in Berlin: week 47.
    expect(weekForSlot(sundayEvening, 'Europe/Berlin')).toBe('2026-W47');
    // A Monday fire agrees with today's behaviour (and is late for the zones east of it).
    const mondayMorning = new Date('2026-11-30T07:00:00Z');
    expect(localTimeWeek(mondayMorning, 'Europe/Berlin')).toBe('2026-W48');
    expect(weekForSlot(mondayMorning, 'Europe/Berlin')).toBe('2026-W48');
  });

  describe('workers', () => {
    let sink: SmtpSink;
    beforeEach(async () => {
      sink = await startSmtpSink();
    });
    afterEach(async () => {
      await sink?.close();
    });

    it('claim only due rows, stop when only waiting rows are left, and send the rest once it is due', async () => {
      await startSend(test.db, seeded.issueId, local);
      // Move the rollout so that Kiritimati's 08:00 was an hour ago by the database clock (Berlin +12 h, LA +21 h).
      await sql`
        UPDATE deliveries SET not_before = not_before
          + (now() - (SELECT min(not_before) FROM deliveries WHERE issue_id = ${seeded.issueId})) - interval '1 hour'
        WHERE issue_id = ${seeded.issueId}
      `.execute(test.db);
      const config = testConfig({ SMTP_URL: sink.url, RECAP_DELIVERY: 'local', RECAP_TZ: 'Europe/Berlin' });
      const run = async () => {
        const mailer = createMailer(config);
        try {
          return await runWorker({
            db: test.db,
            mailer,
            config,
            workerId: 'local-worker',
            issueId: seeded.issueId,
            messages: async () => messageFactoryFor(seeded.content, config),
            leaveWaiting: true,
            pollMs: 20,
          });
        } finally {
          await mailer.close();
        }
      };
      const first = await run();
      expect(first.sent).toBe(1);
      expect(sink.messages.map((m) => m.envelopeTo[0])).toEqual(['reader0@example.test']);
      expect(first.waiting?.count).toBe(4);
      expect(first.stoppedBecause).toMatch(/^4 deliveries wait for their local delivery time/);
      const counts = await deliveryCounts(test.db, seeded.issueId);
      expect(counts).toMatchObject({ sent: 1, queued: 4, waiting: 4, due: 0 });
      const issue = await test.db
        .selectFrom('issues')
        .select('status')
        .where('id', '=', seeded.issueId)
        .executeTakeFirstOrThrow();
      expect(issue.status).toBe('sending');

      // Berlin's 08:00 comes (the clock is moved, not waited for): its three rows are claimed, LA's is not.
      await sql`
        UPDATE deliveries SET not_before = not_before - interval '13 hours'
        WHERE issue_id = ${seeded.issueId} AND status = 'queued'
      `.execute(test.db);
      const second = await run();
      expect(second.sent).toBe(3);
      expect(second.waiting?.count).toBe(1);
      expect(sink.messages.map((m) => m.envelopeTo[0])).not.toContain('reader2@example.test');

      await sql`UPDATE deliveries SET not_before = now() WHERE issue_id = ${seeded.issueId} AND status = 'queued'`.execute(
        test.db,
      );
      const last = await run();
      expect(last.sent).toBe(1);
      expect(last.waiting).toBeUndefined();
      const done = await test.db
        .selectFrom('issues')
        .select('status')
        .where('id', '=', seeded.issueId)
        .executeTakeFirstOrThrow();
      expect(done.status).toBe('sent');
      expect(new Set(sink.messages.map((m) => m.envelopeTo[0])).size).toBe(5);
    });

    it('a late fire: every row whose local time has passed is due at once', async () => {
      const late = await seedSend(test.db, 0, { week: '2026-W40' });
      await startSend(test.db, late.issueId, local);
      const config = testConfig({ SMTP_URL: sink.url, RECAP_DELIVERY: 'local', RECAP_TZ: 'Europe/Berlin' });
      const mailer = createMailer(config);
      try {
        const summary = await runWorker({
          db: test.db,
          mailer,
          config,
          workerId: 'late-worker',
          issueId: late.issueId,
          messages: async () =>
            messageFactoryFor({ ...seeded.content, week: '2026-W40', issueId: late.issueId }, config),
          leaveWaiting: true,
          pollMs: 20,
        });
        expect(summary.sent).toBe(5);
        expect(summary.waiting).toBeUndefined();
      } finally {
        await mailer.close();
      }
    });
  });
});
