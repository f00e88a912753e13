import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageFactoryFor } from '../../src/delivery/edition-messages.ts';
import { runWorker } from '../../src/delivery/send-worker.ts';
import { startSend } from '../../src/delivery/start-send.ts';
import { createSmtpMailer } from '../../src/mail/smtp-mailer.ts';
import { tokenFromLocalPart, verifyToken } from '../../src/tracking/token.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startSmtpSink } from '../support/smtp-sink.ts';
import { addSubscribers, seedSend, testConfig, WEEK } from './send-fixtures.ts';

const fastRetry = { baseMs: 20, capMs: 100, deadlineMs: 60_000 };

describe('sending an issue over SMTP', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase();
  });
  afterAll(async () => {
    await test?.close();
  });

  it('delivers every eligible subscriber exactly once with list headers and a stable Message-ID; a second run sends nothing', async () => {
    const { db } = test;
    const seeded = await seedSend(db, 45);
    // Excluded before the send: an unsubscribed, a bounced and a paused subscriber.
    const extra = await addSubscribers(db, seeded.segments, 3, 1000);
    const [gone, bounced, paused] = [...extra.values()] as [string, string, string];
    await db.updateTable('subscribers').set({ status: 'unsubscribed' }).where('id', '=', gone).execute();
    await db.updateTable('subscribers').set({ status: 'bounced' }).where('id', '=', bounced).execute();
    await db
      .updateTable('subscribers')
      .set({ paused_until: new Date(Date.now() + 86_400_000) })
      .where('id', '=', paused)
      .execute();

    const sink = await startSmtpSink();
    const config = testConfig({ SMTP_URL: sink.url });
    const mailer = createSmtpMailer({ url: sink.url, maxConnections: 3 });
    try {
      const counts = await startSend(db, seeded.issueId, { messageIdDomain: 'news.example.test' });
      expect(counts).toMatchObject({ eligible: 45, unsubscribed: 1, suppressed: 1 });
      const summary = await runWorker({
        db,
        mailer,
        config,
        workerId: 'w1',
        issueId: seeded.issueId,
        messages: async () => messageFactoryFor(seeded.content, config),
        retry: fastRetry,
      });
      expect(summary).toMatchObject({ sent: 45, failed: 0, bounced: 0 });

      const recipients = sink.messages.map((m) => m.envelopeTo[0]);
      expect(new Set(recipients).size).toBe(45);
      expect(recipients.sort()).toEqual([...seeded.subscribers.keys()].sort());

      const deliveries = await db
        .selectFrom('deliveries')
        .select(['subscriber_id', 'message_id', 'segment_key', 'status'])
        .execute();
      const byId = new Map(deliveries.map((d) => [d.subscriber_id, d]));
      for (const message of sink.messages) {
        const email = message.envelopeTo[0] as string;
        const subscriberId = seeded.subscribers.get(email) as string;
        const { parsed } = message;
        expect(parsed.messageId).toBe(`<recap.${WEEK}.${subscriberId}@news.example.test>`);
        expect(byId.get(subscriberId)?.message_id).toBe(parsed.messageId);
        expect(byId.get(subscriberId)?.status).toBe('sent');
        const unsubscribe =
          parsed.headerLines.find((h) => h.key === 'list-unsubscribe')?.line.replace(/\r\n\s+/g, ' ') ?? '';
        expect(unsubscribe).toMatch(/<https:\/\/recap\.example\.test\/u\/[^>]+>/);
        expect(unsubscribe).toMatch(/<mailto:unsubscribe\+[^>]+@news\.example\.test[^>]*>/);
        expect(parsed.headerLines.find((h) => h.key === 'list-unsubscribe-post')?.line).toBe(
          'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
        );
        expect(parsed.headerLines.find((h) => h.key === 'list-id')?.line).toContain(
          '<weekly-ai-recap.news.example.test>',
        );
        expect(parsed.text).toContain('(0)');
        expect(parsed.html).toContain('<html');
        // VERP return path: a bounce token naming this subscriber and issue.
        const match = /^bounces\+(.+)@news\.example\.test$/.exec(message.envelopeFrom);
        expect(match).not.toBeNull();
        expect(verifyToken(config.secrets, tokenFromLocalPart(match?.[1] as string), 'bounce')).toMatchObject(
          {
            subscriberId,
            issueId: seeded.issueId,
          },
        );
      }
      // One edition per segment set: followers of both segments get the third story, others not both.
      const both = byId.get(seeded.subscribers.get('reader0@example.test') as string);
      expect(both?.segment_key).toBe(
        seeded.segments
          .map((s) => s.slug)
          .sort()
          .join('+'),
      );

      const issue = await db
        .selectFrom('issues')
        .select(['status', 'audience_counts'])
        .where('id', '=', seeded.issueId)
        .executeTakeFirstOrThrow();
      expect(issue.status).toBe('sent');

      // A second start and run: nothing new, even for a subscriber who joined since.
      await addSubscribers(db, seeded.segments, 1, 2000);
      expect(await startSend(db, seeded.issueId, { messageIdDomain: 'news.example.test' })).toEqual(counts);
      const again = await runWorker({
        db,
        mailer,
        config,
        workerId: 'w2',
        issueId: seeded.issueId,
        messages: async () => messageFactoryFor(seeded.content, config),
      });
      expect(again.sent).toBe(0);
      expect(sink.messages).toHaveLength(45);
    } finally {
      await mailer.close();
      await sink.close();
    }
  });
});
