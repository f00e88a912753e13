import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempWorkdir } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

// Every email `recap demo` writes (220 readers, every segment set), checked as a receiver would:
// SpamAssassin with its local rules (Debian's package; .ci/run installs it), the subject, the read time.
const SPAMASSASSIN = '/usr/bin/spamassassin';
let t: TestDatabase | undefined;
let outbox: string;

beforeAll(async () => {
  const dir = tempWorkdir();
  const server = await createTestDatabase();
  if (server.url) t = server;
  else await server.close();
  outbox = path.join(dir, 'outbox');
  const result = await runCli(['demo', '--week', '2026-W48'], {
    RECAP_DATA_DIR: path.join(dir, 'data'),
    RECAP_OUTBOX_DIR: outbox,
    DATABASE_URL: t?.url,
    PUBLIC_URL: 'https://recap.example.com',
  });
  if (result.code !== 0) throw new Error(`recap demo failed: ${result.stderr}`);
  emails = await demoEmails();
}, 180_000);
afterAll(() => t?.close());

interface DemoEmail {
  raw: Buffer;
  subject: string;
  text: string;
  /** The segment set the email was rendered for, from its "View in browser" link. */
  segmentKey: string;
}

async function demoEmails(): Promise<DemoEmail[]> {
  const names = readdirSync(outbox)
    .filter((file) => file.endsWith('.eml'))
    .sort();
  const emails: DemoEmail[] = [];
  for (const name of names) {
    const raw = readFileSync(path.join(outbox, name));
    const mail = await simpleParser(raw);
    const text = mail.text ?? '';
    emails.push({
      raw,
      subject: mail.subject ?? '',
      text,
      segmentKey: /\/archive\/2026-W48\/(\S+)/.exec(text)?.[1] ?? '',
    });
  }
  return emails;
}
let emails: DemoEmail[] = [];

describe('the demo emails as a receiver sees them', () => {
  // SpamAssassin costs about 0.25 s of CPU per recap: all 220 took over a minute of CPU (five on a
  // loaded machine), so it checks one email per segment set; the others differ only in name and tokens.
  it('score 0.0 or less with SpamAssassin’s local rules: one email per segment set', () => {
    expect(existsSync(SPAMASSASSIN), `${SPAMASSASSIN} missing: apt-get install spamassassin`).toBe(true);
    expect(emails).toHaveLength(220);
    const bySet = new Map<string, DemoEmail>();
    for (const email of emails) if (!bySet.has(email.segmentKey)) bySet.set(email.segmentKey, email);
    const sample = [...bySet.values()];
    expect(sample.length).toBeGreaterThan(5);
    // One mbox, one SpamAssassin process (its start-up costs seconds).
    const mbox = sample
      .map(
        (email) =>
          `From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n${email.raw.toString('latin1').replace(/\r\n/g, '\n')}\n`,
      )
      .join('');
    const checked = execFileSync(SPAMASSASSIN, ['-L', '-x', '--cf=use_bayes 0', '--mbox'], {
      input: Buffer.from(mbox, 'latin1'),
      maxBuffer: 256 * 1024 * 1024,
      stdio: ['pipe', 'pipe', 'ignore'],
    }).toString('latin1');
    const statuses = [
      ...checked.matchAll(
        /^X-Spam-Status: (\w+), score=(-?[\d.]+) required=[\d.]+ tests=([^\n]*(?:\n\t[^\n]*)*)/gm,
      ),
    ];
    expect(statuses).toHaveLength(sample.length);
    const scored = statuses
      .map((status) => ({
        verdict: status[1],
        score: Number(status[2]),
        tests: status[3]?.replace(/\s+/g, ''),
      }))
      .filter((status) => status.score > 0 || status.verdict !== 'No');
    expect(scored).toEqual([]);
  }, 300_000);

  it('name one whole headline and fit ≤ 3 min read, for every reader', () => {
    const sets = new Set<string>();
    for (const mail of emails) {
      const subject = mail.subject;
      expect(subject.split('…').length - 1).toBeLessThanOrEqual(1);
      expect(subject).toMatch(/^(?!Weekly AI Recap).+( and \d+ more)?$/);
      if (subject.includes(' and ')) expect([...subject].length).toBeLessThanOrEqual(70);
      const minutes = Number(/ · (\d+) min read\n/.exec(mail.text)?.[1]);
      expect(minutes).toBeGreaterThanOrEqual(1);
      expect(minutes).toBeLessThanOrEqual(3);
      sets.add(mail.segmentKey);
    }
    expect(sets.size).toBeGreaterThan(5);
  });
});
