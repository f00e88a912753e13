import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempWorkdir } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

// `recap demo` as a new user runs it (what `npm start` runs, without --serve), twice.
let t: TestDatabase | undefined;
let env: Record<string, string | undefined>;
let outbox: string;

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
  it('writes one parseable email per subscriber, and nothing more on a second run', async () => {
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
      expect(mail.subject).toMatch(/^Weekly AI Recap/);
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
    const before = await stats();
    expect(before.sent).toBe(220);
    expect(before.humanOpeners).toBeGreaterThan(0);
    expect(before.humanClickers).toBeGreaterThan(0);
    expect(before.machineOpeners).toBeGreaterThan(0);

    const second = await runCli(['demo', '--week', '2026-W48'], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/seeded\s+43 stories, 220 subscribers/);
    expect(second.stdout).toMatch(/emails\s+0 sent/);
    expect(second.stdout).not.toContain('simulated');
    expect(readdirSync(outbox).filter((f) => f.endsWith('.eml'))).toHaveLength(220);
    expect(await stats()).toEqual(before);
  });
});
