import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type App, assembleApp } from '../../src/cli/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { Db } from '../../src/db/database.ts';
import { createTestDatabase } from '../support/database.ts';

export const SECRET = 'test-secret-0123456789-abcdefghijklmnop';
export const OLD_SECRET = 'old-secret-0123456789-abcdefghijklmnopq';

/** An App on a fresh test database, with a fixed secret and a rotated-out previous one. */
export async function createTestApp(env: Record<string, string> = {}): Promise<App> {
  const database = await createTestDatabase();
  const config = loadConfig(
    {
      NODE_ENV: 'test',
      RECAP_SECRET: SECRET,
      RECAP_PREVIOUS_SECRETS: OLD_SECRET,
      RECAP_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'recap-web-')),
      RECAP_OUTBOX_DIR: mkdtempSync(path.join(tmpdir(), 'recap-outbox-')),
      PUBLIC_URL: 'http://recap.test',
      RECAP_FROM_EMAIL: 'recap@recap.test',
      ...env,
    },
    { dotenvPath: '/nonexistent/.env' },
  );
  return assembleApp(config, database.db, database.kind, database.close);
}

export interface Seeded {
  segments: Array<{ id: number; slug: string }>;
  alice: string;
  bob: string;
  issueId: number;
}

/** Two segments, two active subscribers, one issue with three links (one honeypot), both delivered. */
export async function seedIssue(db: Db, sentAt: Date = new Date(Date.now() - 3_600_000)): Promise<Seeded> {
  const segments = await db
    .insertInto('segments')
    .values([
      { name: 'Engineers', slug: 'engineers' },
      { name: 'Founders', slug: 'founders' },
    ])
    .returning(['id', 'slug'])
    .execute();
  const [alice, bob] = await db
    .insertInto('subscribers')
    .values([
      { email: 'alice@example.org', status: 'active', confirmed_at: new Date() },
      { email: 'bob@example.org', status: 'active', confirmed_at: new Date() },
    ])
    .returning('id')
    .execute();
  if (!alice || !bob) throw new Error('seed failed');
  await db
    .insertInto('subscriptions')
    .values(segments.map((segment) => ({ subscriber_id: alice.id, segment_id: segment.id })))
    .execute();
  const issue = await db
    .insertInto('issues')
    .values({ week: '2026-W48', status: 'sent' })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('issue_links')
    .values([
      { issue_id: issue.id, position: 1, url: 'https://example.com/story-one', kind: 'story' },
      { issue_id: issue.id, position: 2, url: 'https://example.com/story-two', kind: 'story' },
      { issue_id: issue.id, position: 3, url: 'https://example.com/story-three', kind: 'story' },
      { issue_id: issue.id, position: 99, url: 'https://example.com/trap', kind: 'honeypot' },
    ])
    .execute();
  await db
    .insertInto('deliveries')
    .values(
      [alice.id, bob.id].map((id) => ({
        issue_id: issue.id,
        subscriber_id: id,
        segment_key: 'engineers+founders',
        status: 'sent' as const,
        message_id: `<recap.${issue.id}.${id}@recap.test>`,
        sent_at: sentAt,
      })),
    )
    .execute();
  return { segments, alice: alice.id, bob: bob.id, issueId: issue.id };
}
