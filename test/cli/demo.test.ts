import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IsoWeek, parseIsoWeek } from '../../src/calendar/iso-week.ts';
import { connectDatabase } from '../../src/db/connect.ts';
import type { Db } from '../../src/db/database.ts';
import { demoStories } from '../../src/demo/demo-content.ts';
import { findStory } from '../../src/stories/story.repository.ts';
import type { Story } from '../../src/stories/story.ts';
import { unsubscribeSubscriber, updatePreferences } from '../../src/subscribers/subscription-changes.ts';
import { runCli, tempWorkdir } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

// `recap demo` as a new user runs it (what `npm start` runs, without --serve), twice.
let t: TestDatabase | undefined;
let env: Record<string, string | undefined>;
let outbox: string;

/** Opens the database the CLI used (once it has exited), for what a reader does on the web pages. */
async function withDatabase<T>(use: (db: Db) => Promise<T>): Promise<T> {
  const handle = await connectDatabase({
    databaseUrl: env.DATABASE_URL,
    dataDir: env.RECAP_DATA_DIR as string,
  });
  try {
    return await use(handle.db);
  } finally {
    await handle.close();
  }
}

beforeAll(async () => {
  const dir = tempWorkdir();
  const server = await createTestDatabase();
  if (server.url) t = server;
  else await server.close();
  outbox = path.join(dir, 'outbox');
  env = {
    RECAP_DATA_DIR: path.join(dir, 'data'),
    RECAP_OUTBOX_DIR: outbox,
    DATABASE_URL: t?.url,
    PUBLIC_URL: 'https://recap.example.com',
  };
});
afterAll(() => t?.close());

describe('recap demo (child process)', () => {
  it('writes one parseable email per subscriber; a second run mails nobody and keeps what readers and the editor chose', async () => {
    const first = await runCli(['demo', '--week', '2026-W48'], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Weekly AI Recap 2026-W48 (23–29 Nov 2026, UTC)');
    expect(first.stdout).toMatch(/seeded\s+43 stories, 220 subscribers/);
    expect(first.stdout).toMatch(/Founders & Product Leaders\s+\d+ stories/);
    expect(first.stdout).toMatch(/emails\s+220 sent to /);

    const files = readdirSync(outbox).filter((f) => f.endsWith('.eml'));
    expect(files).toHaveLength(220);
    const recipients = new Set<string>();
    const messageIds = new Set<string>();
    for (const file of files.slice(0, 40)) {
      const mail = await simpleParser(readFileSync(path.join(outbox, file)));
      const to = mail.to && !Array.isArray(mail.to) ? mail.to.value[0]?.address : undefined;
      expect(to).toMatch(/@example\.(com|org|net)$/);
      recipients.add(to as string);
      // The subject leads with the headline; the sender's name is in From, not repeated.
      // The lead headline, with "and N more" when that fits 70 characters.
      expect(mail.subject).toMatch(/^[A-Z].{9,}/);
      expect(mail.subject).not.toMatch(/^Weekly AI Recap/);
      expect(mail.text?.length).toBeGreaterThan(200);
      expect(mail.html).toContain('All content rights belong to original publishers');
      // mailparser folds List-* headers into a structure; read the raw lines as a receiver would.
      const raw = (key: string) =>
        mail.headerLines
          .find((h) => h.key === key)
          ?.line.replace(/\r?\n\s+/g, ' ')
          .replace(/^[^:]+:\s*/, '');
      const listUnsubscribe = raw('list-unsubscribe') ?? '';
      expect(listUnsubscribe).toMatch(/<https:\/\/recap\.example\.com\/u\/[^>]+>/);
      expect(listUnsubscribe).toMatch(/<mailto:[^>]+>/);
      expect(raw('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
      expect(raw('list-id')).toMatch(/<[^>]+>$/);
      expect(mail.messageId).toMatch(/^<recap\.2026-W48\.\d+@/);
      messageIds.add(mail.messageId as string);
    }
    expect(recipients.size).toBe(40);
    expect(messageIds.size).toBe(40);

    const stats = async () =>
      JSON.parse((await runCli(['stats', '--week', '2026-W48', '--json'], env)).stdout).totals;
    const firstStats = await stats();
    expect(firstStats.sent).toBe(220);
    expect(firstStats.humanOpeners).toBeGreaterThan(0);
    expect(firstStats.humanClickers).toBeGreaterThan(0);
    expect(firstStats.machineOpeners).toBeGreaterThan(0);

    // Between the runs, readers and the editor choose: one reader clears their topics, another
    // unsubscribes, and the editor corrects a demo story's headline by importing it again.
    const story = demoStories(parseIsoWeek('2026-W48') as IsoWeek, 'UTC')[0] as Story;
    const edited = path.join(path.dirname(outbox), 'edited.json');
    writeFileSync(edited, JSON.stringify({ ...story, title: 'Corrected headline' }));
    expect((await runCli(['import', 'stories', edited], env)).stdout).toContain('1 updated');
    const readers = await withDatabase(async (db) => {
      const [cleared, leaver] = await db
        .selectFrom('subscribers')
        .select(['id', 'email'])
        .orderBy('email')
        .limit(2)
        .execute();
      if (!cleared || !leaver) throw new Error('the demo seeded no subscribers');
      const context = { ip: null, userAgent: null, source: 'web' };
      await updatePreferences(db, cleared.id, { segmentIds: [], pauseWeeks: 0 }, context);
      await unsubscribeSubscriber(db, leaver.id, context);
      return [cleared.id, leaver.id];
    });
    const choices = () =>
      withDatabase(async (db) => ({
        readers: await db
          .selectFrom('subscribers')
          .leftJoin('subscriptions', 'subscriptions.subscriber_id', 'subscribers.id')
          .select(['subscribers.id', 'status', 'subscriptions.segment_id'])
          .where('subscribers.id', 'in', readers)
          .orderBy('subscribers.id')
          .orderBy('subscriptions.segment_id')
          .execute(),
        title: (await findStory(db, story.id))?.title,
      }));
    const chosen = await choices();
    expect(chosen.title).toBe('Corrected headline');
    expect(chosen.readers.find((r) => r.id === readers[0])?.segment_id).toBeNull();
    expect(chosen.readers.find((r) => r.id === readers[1])?.status).toBe('unsubscribed');

    const before = await stats();

    const second = await runCli(['demo', '--week', '2026-W48'], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/seeded\s+43 stories, 220 subscribers/);
    expect(second.stdout).toMatch(/emails\s+0 sent/);
    expect(second.stdout).not.toContain('simulated');
    expect(readdirSync(outbox).filter((f) => f.endsWith('.eml'))).toHaveLength(220);
    expect(await stats()).toEqual(before);
    // The second run put back nobody's topics, nobody's subscription and no story of its own.
    expect(await choices()).toEqual(chosen);
  });
});
