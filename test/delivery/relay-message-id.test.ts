import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageFactoryFor } from '../../src/delivery/edition-messages.ts';
import { runWorker } from '../../src/delivery/send-worker.ts';
import { startSend } from '../../src/delivery/start-send.ts';
import { relayMessageIdFromReply } from '../../src/mail/relay-reply.ts';
import { createSmtpMailer } from '../../src/mail/smtp-mailer.ts';
import { verifyToken } from '../../src/tracking/token.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startSmtpSink } from '../support/smtp-sink.ts';
import { seedSend, testConfig } from './send-fixtures.ts';

describe("the relay's message id", () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase();
  });
  afterAll(async () => {
    await test?.close();
  });

  it('is read from the 250 reply of SES, Postfix-like relays and SendGrid, and not made up from a bare OK', () => {
    expect(
      relayMessageIdFromReply('250 Ok 0100018c2f5e6a7b-1a2b3c4d-5e6f-7a8b-9c0d-ef1234567890-000000'),
    ).toBe('0100018c2f5e6a7b-1a2b3c4d-5e6f-7a8b-9c0d-ef1234567890-000000');
    expect(relayMessageIdFromReply('250 2.0.0 Ok: queued as 4XyZ1b2C3d')).toBe('4XyZ1b2C3d');
    expect(relayMessageIdFromReply('250 Ok: queued as <q7Hk2LmNpQ.0>')).toBe('q7Hk2LmNpQ.0');
    expect(relayMessageIdFromReply('250 OK: message queued')).toBeNull();
    expect(relayMessageIdFromReply('250 Great success')).toBeNull();
    expect(relayMessageIdFromReply(undefined)).toBeNull();
  });

  it('from a relay answering `250 Ok <id>` is stored on each delivery, and SES mail carries the return-path token as a message tag', async () => {
    const { db } = test;
    const seeded = await seedSend(db, 4);
    let next = 0;
    const ids = new Map<string, string>();
    const sink = await startSmtpSink({
      acceptReply: (raw) => {
        const id = `0100018c2f5e6a7b-relay-${++next}-000000`;
        const to = /^To: (.+)$/m.exec(raw.toString('latin1'))?.[1]?.trim() ?? '';
        ids.set(to, id);
        return `Ok ${id}`;
      },
    });
    const config = testConfig({ SMTP_URL: sink.url, SMTP_PROVIDER: 'ses' });
    const mailer = createSmtpMailer({ url: sink.url, maxConnections: 2 });
    try {
      await startSend(db, seeded.issueId, { messageIdDomain: 'news.example.test' });
      const summary = await runWorker({
        db,
        mailer,
        config,
        workerId: 'w1',
        issueId: seeded.issueId,
        messages: async () => messageFactoryFor(seeded.content, config),
      });
      expect(summary).toMatchObject({ sent: 4 });
      const rows = await db
        .selectFrom('deliveries')
        .innerJoin('subscribers', 'subscribers.id', 'deliveries.subscriber_id')
        .select(['subscribers.email', 'deliveries.relay_message_id', 'deliveries.subscriber_id'])
        .where('deliveries.issue_id', '=', seeded.issueId)
        .execute();
      expect(rows).toHaveLength(4);
      for (const row of rows) expect(row.relay_message_id).toBe(ids.get(row.email));
      for (const message of sink.messages) {
        const tags = message.parsed.headers.get('x-ses-message-tags');
        expect(tags).toMatch(/^recap_token=[A-Za-z0-9_.@-]+$/);
        const payload = verifyToken(config.secrets, String(tags).slice('recap_token='.length), 'bounce');
        const subscriber = seeded.subscribers.get(message.envelopeTo[0] as string);
        expect(payload).toMatchObject({ subscriberId: subscriber, issueId: seeded.issueId });
      }
    } finally {
      await mailer.close();
      await sink.close();
    }
  });
});
