import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageFactoryFor } from '../../src/delivery/edition-messages.ts';
import { runWorker } from '../../src/delivery/send-worker.ts';
import { startSend } from '../../src/delivery/start-send.ts';
import { createSmtpMailer } from '../../src/mail/smtp-mailer.ts';
import { loadIssueStats, loadWeeklySeries } from '../../src/reports/issue-stats.ts';
import { setTracking } from '../../src/subscribers/subscription-changes.ts';
import { insertTrackingEvents } from '../../src/tracking/event-rollups.ts';
import { seedSend, testConfig, WEEK } from '../delivery/send-fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startSmtpSink } from '../support/smtp-sink.ts';

const web = { ip: '192.0.2.1', userAgent: 'test', source: 'web' };

describe('tracking chosen by the reader', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase();
  });
  afterAll(async () => {
    await test?.close();
  });

  it('sends the pixel and /c/ links only to the reader who agreed, counts rates over tracked deliveries, and later changes move nothing', async () => {
    const { db } = test;
    const seeded = await seedSend(db, 2);
    const tracked = seeded.subscribers.get('reader0@example.test') as string;
    const untracked = seeded.subscribers.get('reader1@example.test') as string;
    expect(await setTracking(db, untracked, false, web, 'Count my opens and clicks')).toEqual({
      changed: true,
    });
    expect(await setTracking(db, untracked, false, web, 'Count my opens and clicks')).toEqual({
      changed: false,
    });

    const sink = await startSmtpSink();
    const config = testConfig({ SMTP_URL: sink.url });
    const mailer = createSmtpMailer({ url: sink.url, maxConnections: 2 });
    try {
      await startSend(db, seeded.issueId, { messageIdDomain: 'news.example.test' });
      const flags = await db
        .selectFrom('deliveries')
        .select(['subscriber_id', 'tracked'])
        .where('issue_id', '=', seeded.issueId)
        .execute();
      expect(Object.fromEntries(flags.map((f) => [f.subscriber_id, f.tracked]))).toEqual({
        [tracked]: true,
        [untracked]: false,
      });
      const summary = await runWorker({
        db,
        mailer,
        config,
        workerId: 'w1',
        issueId: seeded.issueId,
        messages: async () => messageFactoryFor(seeded.content, config),
      });
      expect(summary).toMatchObject({ sent: 2, failed: 0 });
    } finally {
      await mailer.close();
      await sink.close();
    }
    const to = (email: string) => sink.messages.find((m) => m.envelopeTo[0] === email);
    const yes = to('reader0@example.test');
    const no = to('reader1@example.test');
    const base = 'https://recap.example.test';
    expect(yes?.parsed.html).toContain(`${base}/o/`);
    expect(yes?.parsed.html).toContain(`${base}/c/`);
    expect(no?.parsed.html).toBeTruthy();
    expect(no?.parsed.html).not.toContain(`${base}/o/`);
    expect(no?.parsed.html).not.toContain(`${base}/c/`);
    expect(no?.parsed.text).not.toContain(`${base}/c/`);
    // The original story URLs, and the unsubscribe and preferences links still signed.
    expect(no?.parsed.html).toContain('https://news.example.test/story-0');
    expect(no?.parsed.html).toMatch(new RegExp(`${base}/u/[A-Za-z0-9._-]+`));
    expect(no?.parsed.html).toMatch(new RegExp(`${base}/p/[A-Za-z0-9._-]+`));

    // One human open from the tracked reader: 1 of 1 tracked delivery, whatever the untracked one did.
    await insertTrackingEvents(db, [
      { kind: 'open', issue_id: seeded.issueId, subscriber_id: tracked, class: 'human' },
    ]);
    const before = await loadIssueStats(db, WEEK);
    expect(before?.totals).toMatchObject({
      recipients: 2,
      delivered: 2,
      notTracked: 1,
      trackedDelivered: 1,
      humanOpeners: 1,
      openRate: 1,
    });
    const seriesBefore = await loadWeeklySeries(db);

    // Both change their minds afterwards: last week's numbers stay as they were.
    await setTracking(db, tracked, false, web, 'Count my opens and clicks');
    await setTracking(db, untracked, true, web, 'Count my opens and clicks');
    expect((await loadIssueStats(db, WEEK))?.totals).toEqual(before?.totals);
    expect(await loadWeeklySeries(db)).toEqual(seriesBefore);

    // The next issue freezes the new choices.
    const next = await seedSend(db, 0, { week: '2026-W49' });
    await startSend(db, next.issueId, { messageIdDomain: 'news.example.test' });
    const nextFlags = await db
      .selectFrom('deliveries')
      .select(['subscriber_id', 'tracked'])
      .where('issue_id', '=', next.issueId)
      .execute();
    expect(Object.fromEntries(nextFlags.map((f) => [f.subscriber_id, f.tracked]))).toEqual({
      [tracked]: false,
      [untracked]: true,
    });
    // TRACKING_ENABLED=false tracks nobody, whatever they chose.
    const third = await seedSend(db, 0, { week: '2026-W50' });
    await startSend(db, third.issueId, { messageIdDomain: 'news.example.test', trackingEnabled: false });
    const thirdFlags = await db
      .selectFrom('deliveries')
      .select('tracked')
      .where('issue_id', '=', third.issueId)
      .execute();
    expect(thirdFlags.map((f) => f.tracked)).toEqual([false, false]);

    // Every change is in the consent log with what was shown.
    const log = await db
      .selectFrom('consent_log')
      .select(['subscriber_id', 'action', 'detail', 'ip'])
      .where('action', 'in', ['tracking-on', 'tracking-off'])
      .orderBy('id')
      .execute();
    expect(log.map((entry) => [entry.subscriber_id, entry.action])).toEqual([
      [untracked, 'tracking-off'],
      [tracked, 'tracking-off'],
      [untracked, 'tracking-on'],
    ]);
    expect(log[0]?.detail).toMatchObject({
      source: 'web',
      shown: 'Count my opens and clicks',
      tracking: false,
    });
    expect(log[0]?.ip).toBe('192.0.2.1');
  });
});
