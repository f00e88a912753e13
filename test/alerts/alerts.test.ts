import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertIfUnapprovedBeforeFire } from '../../src/alerts/approval-alert.ts';
import { raiseAlert } from '../../src/alerts/raise-alert.ts';
import { alertSendFinished, alertSendPaused } from '../../src/alerts/send-alerts.ts';
import { alertSourceFailing } from '../../src/alerts/source-alert.ts';
import type { Config } from '../../src/config.ts';
import { messageFactoryFor } from '../../src/delivery/edition-messages.ts';
import { resumeSend } from '../../src/delivery/send-control.ts';
import { runWorker } from '../../src/delivery/send-worker.ts';
import { startSend } from '../../src/delivery/start-send.ts';
import { createMailer } from '../../src/mail/create-mailer.ts';
import type { Mailer } from '../../src/mail/mailer.ts';
import { createSmtpMailer } from '../../src/mail/smtp-mailer.ts';
import { runScheduleCycle } from '../../src/schedule/schedule-cycle.ts';
import { cronPattern } from '../../src/schedule/schedule-slot.ts';
import { ensureSegments, upsertStories } from '../../src/stories/story.repository.ts';
import { type SeededSend, seedSend, testConfig, WEEK } from '../delivery/send-fixtures.ts';
import { makeStory } from '../selection/story-factory.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.ts';

describe('alerts', () => {
  let test: TestDatabase;
  let receiver: WebhookReceiver;
  let sink: SmtpSink | undefined;
  const logged: string[] = [];
  const log = (line: string) => logged.push(line);
  // The alerts' mailer, as the composition root builds it; closed before the sink stops.
  const mailers: Mailer[] = [];
  const mailerFor = (config: Config) => {
    const mailer = createMailer(config);
    mailers.push(mailer);
    return mailer;
  };

  beforeEach(async () => {
    test = await createTestDatabase();
    receiver = await startWebhookReceiver();
    logged.length = 0;
  });
  afterEach(async () => {
    await Promise.all(mailers.splice(0).map((mailer) => mailer.close()));
    await sink?.close();
    sink = undefined;
    await receiver?.close();
    await test?.close();
  });

  const kinds = () => receiver.bodies.map((body) => body.kind);

  async function send(seeded: SeededSend, config: Config, workers: number) {
    const run = async (n: number) => {
      const mailer = createSmtpMailer({ url: sink?.url as string, maxConnections: 1 });
      try {
        return await runWorker({
          db: test.db,
          mailer,
          config,
          workerId: `w${n}`,
          issueId: seeded.issueId,
          messages: async () => messageFactoryFor(seeded.content, config),
          batchSize: 4,
          concurrency: 2,
          pollMs: 20,
        });
      } finally {
        await mailer.close();
      }
    };
    return Promise.all(Array.from({ length: workers }, (_, n) => run(n)));
  }

  it('a finished send posts one webhook with its numbers and one email, however many workers finish it', async () => {
    sink = await startSmtpSink();
    const config = testConfig({
      SMTP_URL: sink.url,
      ALERT_WEBHOOK_URL: receiver.url,
      ALERT_EMAIL: 'ops@example.test',
    });
    const seeded = await seedSend(test.db, 12);
    await startSend(test.db, seeded.issueId, { messageIdDomain: 'news.example.test' });
    await send(seeded, config, 3);

    expect(kinds()).toEqual(['send-finished']);
    expect(receiver.bodies[0]).toMatchObject({
      kind: 'send-finished',
      week: WEEK,
      issueId: seeded.issueId,
      counts: { sent: 12, failed: 0, bounced: 0, queued: 0 },
    });
    expect(receiver.bodies[0]?.text).toMatch(/^The send of 2026-W48 finished: 12 sent\n12 sent, 0 failed/);
    const alertMails = sink.messages.filter((m) => m.envelopeTo.includes('ops@example.test'));
    expect(alertMails).toHaveLength(1);
    expect(alertMails[0]?.parsed.subject).toBe('[recap] The send of 2026-W48 finished: 12 sent');
    expect(alertMails[0]?.parsed.headers.get('auto-submitted')).toBe('auto-generated');
    expect(alertMails[0]?.parsed.text).toContain('12 sent, 0 failed, 0 bounced, 0 skipped, 0 cancelled.');
    expect(sink.messages).toHaveLength(13);

    // The same cause again (a late worker, a re-run) sends nothing more.
    await alertSendFinished(
      { db: test.db, config, mailer: mailerFor(config), log },
      { id: seeded.issueId, week: WEEK },
    );
    expect(kinds()).toEqual(['send-finished']);
    const row = await test.db.selectFrom('alerts').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ kind: 'send-finished', cause: WEEK, error: null });
    expect(row.delivered_at).toBeInstanceOf(Date);
  });

  it('a send that pauses itself alerts once; a failing alert email is logged and does not break the send', async () => {
    // Every recipient is refused for now, so is the alert email: only the webhook gets through. (Not a
    // 4.7.x answer: that is throttling, which backs the domain off instead of counting as a failure.)
    sink = await startSmtpSink({
      onRcptTo: () => Object.assign(new Error('4.3.1 greylisted, come back later'), { responseCode: 452 }),
    });
    const config = testConfig({
      SMTP_URL: sink.url,
      SEND_MAX_CONSECUTIVE_FAILURES: '3',
      ALERT_WEBHOOK_URL: receiver.url,
      ALERT_EMAIL: 'ops@example.test',
    });
    const seeded = await seedSend(test.db, 20);
    await startSend(test.db, seeded.issueId, { messageIdDomain: 'news.example.test' });
    const summaries = await send(seeded, config, 2);

    expect(summaries.some((s) => /consecutive failures/.test(s.fatal ?? ''))).toBe(true);
    const issue = await test.db
      .selectFrom('issues')
      .select(['status', 'status_reason'])
      .where('id', '=', seeded.issueId)
      .executeTakeFirstOrThrow();
    expect(issue.status).toBe('paused');
    expect(kinds()).toEqual(['send-paused']);
    expect(receiver.bodies[0]).toMatchObject({ week: WEEK, reason: issue.status_reason });
    const row = await test.db.selectFrom('alerts').selectAll().executeTakeFirstOrThrow();
    expect(row.error).toMatch(/^email: ops@example.test: .*greylisted/);
    expect(row.delivered_at).toBeNull();

    const context = { db: test.db, config, mailer: mailerFor(config), log };
    const ref = { id: seeded.issueId, week: WEEK };
    await alertSendPaused(context, ref, issue.status_reason as string);
    expect(kinds()).toEqual(['send-paused']);
    // Resumed and paused again for another reason: that is a new cause.
    await resumeSend(test.db, seeded.issueId);
    await alertSendPaused(context, ref, 'hard bounces passed SEND_MAX_BOUNCE_RATE');
    expect(kinds()).toEqual(['send-paused', 'send-paused']);
    expect(logged.join('\n')).toMatch(/alert send-paused .*email: ops@example.test/);
  });

  it('retries a failing webhook a bounded number of times, gives up on a hanging one, and logs both', async () => {
    const config = testConfig({ ALERT_WEBHOOK_URL: receiver.url });
    receiver.answer = () => 503;
    const context = {
      db: test.db,
      config,
      mailer: mailerFor(config),
      log,
      webhook: { attempts: 3, backoffMs: 5, timeoutMs: 10_000 },
    };
    const alert = { kind: 'source-failing' as const, subject: 'x', lines: [], details: {} };
    expect(await raiseAlert(context, { ...alert, cause: 'down' })).toBe(true);
    expect(receiver.bodies).toHaveLength(3);
    expect(logged.at(-1)).toMatch(/webhook: HTTP 503 after 3 attempts/);

    receiver.answer = (index) => (index === 3 ? 400 : 200);
    expect(await raiseAlert(context, { ...alert, cause: 'refused' })).toBe(true);
    expect(receiver.bodies).toHaveLength(4);
    expect(logged.at(-1)).toMatch(/webhook: HTTP 400$/);

    receiver.answer = () => 'hang';
    expect(
      await raiseAlert(
        { ...context, webhook: { attempts: 2, backoffMs: 5, timeoutMs: 200 } },
        { ...alert, cause: 'hang' },
      ),
    ).toBe(true);
    expect(receiver.bodies).toHaveLength(6);
    expect(logged.at(-1)).toMatch(/webhook: .*(timeout|aborted).* after 2 attempts/i);
    // A cause already raised is not retried by a later call: once per cause, never a storm.
    expect(await raiseAlert(context, { ...alert, cause: 'down' })).toBe(false);
    expect(receiver.bodies).toHaveLength(6);
  });

  it('mails an alert into the outbox when SMTP_URL is unset', async () => {
    const outbox = mkdtempSync(path.join(tmpdir(), 'recap-alert-outbox-'));
    const config = testConfig({
      ALERT_EMAIL: 'ops@example.test, lead@example.test',
      RECAP_OUTBOX_DIR: outbox,
    });
    const now = new Date('2026-11-30T10:00:00Z');
    expect(
      await alertSourceFailing(
        { db: test.db, config, mailer: mailerFor(config), log },
        { source: 'arxiv', error: 'HTTP 502', now },
      ),
    ).toBe(true);
    const files = readdirSync(outbox).sort();
    expect(files).toHaveLength(2);
    const raw = readFileSync(path.join(outbox, files[1] as string), 'utf8');
    expect(raw).toMatch(/^Subject: \[recap\] Story source arxiv is failing$/m);
    expect(raw).toMatch(/^To: ops@example.test$/m);
    // The outbox holds the wire bytes (base64 parts): read the text as a mail client would.
    expect((await simpleParser(raw)).text).toContain('Error: HTTP 502');
    expect(logged).toEqual([]);
  });

  it('a failing story source alerts once per source and day', async () => {
    const config = testConfig({ ALERT_WEBHOOK_URL: receiver.url });
    const context = { db: test.db, config, mailer: mailerFor(config), log };
    const at = (iso: string) => new Date(iso);
    expect(
      await alertSourceFailing(context, {
        source: 'arxiv',
        error: 'HTTP 502',
        now: at('2026-11-30T08:00:00Z'),
      }),
    ).toBe(true);
    expect(
      await alertSourceFailing(context, {
        source: 'arxiv',
        error: 'timeout',
        now: at('2026-11-30T20:00:00Z'),
      }),
    ).toBe(false);
    expect(
      await alertSourceFailing(context, { source: 'hn', error: 'HTTP 500', now: at('2026-11-30T20:00:00Z') }),
    ).toBe(true);
    expect(
      await alertSourceFailing(context, {
        source: 'arxiv',
        error: 'HTTP 502',
        now: at('2026-12-01T08:00:00Z'),
      }),
    ).toBe(true);
    expect(receiver.bodies.map((b) => `${b.source} ${b.day}`)).toEqual([
      'arxiv 2026-11-30',
      'hn 2026-11-30',
      'arxiv 2026-12-01',
    ]);
  });

  it('an issue still unapproved an hour before its fire alerts once, with an injected clock', async () => {
    // Monday 08:00 in Berlin is 07:00 UTC on 2026-11-30; that fire sends 2026-W48.
    const pattern = cronPattern('0 8 * * 1', 'Europe/Berlin');
    const config = testConfig({ ALERT_WEBHOOK_URL: receiver.url, REQUIRE_APPROVAL: 'true' });
    const context = { db: test.db, config, mailer: mailerFor(config), log };
    const check = (iso: string, requireApproval = true) =>
      alertIfUnapprovedBeforeFire(context, { pattern, now: new Date(iso), requireApproval });

    expect(await check('2026-11-30T05:55:00Z')).toBe(false); // 65 min before: not yet
    expect(await check('2026-11-30T06:05:00Z', false)).toBe(false); // approval not required
    expect(receiver.bodies).toHaveLength(0);

    // Not built yet: the fire will build it and then wait, so this alerts too.
    expect(await check('2026-11-30T06:05:00Z')).toBe(true);
    expect(receiver.bodies[0]).toMatchObject({
      kind: 'approval-missing',
      week: '2026-W48',
      fireAt: '2026-11-30T07:00:00.000Z',
      status: 'not built',
    });
    expect(receiver.bodies[0]?.subject).toBe('Issue 2026-W48 is not approved and the send is due in 55 min');
    // Every later check before the fire: the same cause, nothing sent.
    await test.db
      .insertInto('issues')
      .values({ week: '2026-W48', status: 'draft', built_at: new Date() })
      .execute();
    expect(await check('2026-11-30T06:10:00Z')).toBe(false);
    expect(await check('2026-11-30T06:55:00Z')).toBe(false);
    expect(receiver.bodies).toHaveLength(1);

    // The next week's fire: approved in time, no alert; still a draft, one alert.
    await test.db
      .insertInto('issues')
      .values({ week: '2026-W49', status: 'approved', built_at: new Date() })
      .execute();
    expect(await check('2026-12-07T06:30:00Z')).toBe(false);
    await test.db.updateTable('issues').set({ status: 'draft' }).where('week', '=', '2026-W49').execute();
    expect(await check('2026-12-07T06:40:00Z')).toBe(true);
    expect(receiver.bodies.map((b) => `${b.week} ${b.status}`)).toEqual([
      '2026-W48 not built',
      '2026-W49 draft',
    ]);
  });

  it("the schedule's cycle raises the approval alert at its checks", async () => {
    const pattern = cronPattern('0 8 * * 1', 'Europe/Berlin');
    const config = testConfig({ ALERT_WEBHOOK_URL: receiver.url, REQUIRE_APPROVAL: 'true' });
    const now = () => new Date('2026-11-30T06:20:00Z');
    const never = async (): Promise<string> => {
      throw new Error('nothing is due');
    };
    const result = await runScheduleCycle({
      db: test.db,
      scheduleName: 'weekly-recap',
      pattern,
      owner: 'test',
      now,
      requireApproval: true,
      actions: { buildIssue: never, sendIssue: never },
      log,
      catchUpWindowMs: 3_600_000,
      lookbackMs: 8 * 24 * 3_600_000,
      leaseMs: 600_000,
      alerts: { db: test.db, config, mailer: mailerFor(config), log, now },
    });
    // Last week's fire is long past the catch-up window: the cycle itself does nothing.
    expect(result.outcome).toBe('skipped-stale');
    expect(receiver.bodies.map((b) => `${b.kind} ${b.week} ${b.fireAt}`)).toEqual([
      'approval-missing 2026-W48 2026-11-30T07:00:00.000Z',
    ]);
  });

  it('the schedule sending an unapproved draft with an empty segment raises an alert (REQUIRE_APPROVAL off)', async () => {
    const pattern = cronPattern('0 8 * * 1', 'UTC');
    const config = testConfig({ ALERT_WEBHOOK_URL: receiver.url, REQUIRE_APPROVAL: 'false' });
    await test.db
      .transaction()
      .execute((trx) =>
        upsertStories(trx, [
          makeStory({ id: 'alpha-only', audiences: ['Alpha'] }),
          makeStory({ id: 'beta-1', audiences: ['Beta'] }),
        ]),
      );
    const [alpha] = await ensureSegments(test.db, ['Alpha', 'Beta']);
    const issue = await test.db
      .insertInto('issues')
      .values({ week: '2026-W48', status: 'draft', built_at: new Date() })
      .returning('id')
      .executeTakeFirstOrThrow();
    await test.db
      .insertInto('issue_items')
      .values({
        issue_id: issue.id,
        segment_id: alpha?.id as number,
        story_id: 'alpha-only',
        position: 0,
        score: 1,
      })
      .execute();
    const sent: string[] = [];
    const cycle = (requireApproval: boolean) =>
      runScheduleCycle({
        db: test.db,
        scheduleName: `weekly-recap-${requireApproval}`,
        pattern,
        owner: 'test',
        now: () => new Date('2026-11-30T08:00:30Z'),
        requireApproval,
        actions: {
          buildIssue: async () => 'built',
          sendIssue: async (week) => {
            sent.push(week);
            return 'sent';
          },
        },
        log,
        catchUpWindowMs: 3_600_000,
        lookbackMs: 8 * 24 * 3_600_000,
        leaseMs: 600_000,
        alerts: { db: test.db, config, mailer: mailerFor(config), log },
      });
    expect((await cycle(false)).outcome).toBe('sent');
    expect(sent).toEqual(['2026-W48']);
    const alerts = receiver.bodies.filter((b) => b.kind === 'empty-segments');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ week: '2026-W48', emptySegments: ['Beta'] });
    expect(alerts[0]?.subject).toBe('Issue 2026-W48 goes out unapproved with 1 empty segment');
  });

  it('sends nothing and records nothing when no alert channel is configured', async () => {
    const config = testConfig();
    expect(
      await alertSourceFailing(
        { db: test.db, config, mailer: mailerFor(config), log },
        { source: 'arxiv', error: 'x' },
      ),
    ).toBe(false);
    expect(await test.db.selectFrom('alerts').selectAll().execute()).toEqual([]);
  });
});
