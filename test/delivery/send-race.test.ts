import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase, testDatabaseUrl } from '../support/database.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { seedSend } from './send-fixtures.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const AUDIENCE = 300;
const WEEKS = ['2026-W48', '2026-W49', '2026-W50'];

/**
 * Two `recap send` for one week started together (the built CLI, the real PostgreSQL): both freeze the
 * issue's content in a repeatable-read transaction and lock its row to start the send. The loser of that
 * race is rolled back (40001) and runs again, finds the send started and joins it as a second worker.
 */
describe.runIf(testDatabaseUrl)('two racing `recap send` for one week', () => {
  let test: TestDatabase;
  let sink: SmtpSink;

  beforeAll(async () => {
    test = await createTestDatabase();
    sink = await startSmtpSink();
    // The first run of bin/recap.js builds dist/: done once here, not by two racing children.
    expect((await runCli(['--help'], {})).code).toBe(0);
  }, 300_000);
  afterAll(async () => {
    await sink?.close();
    await test?.close();
  });

  function send(week: string) {
    const child = spawn(process.execPath, ['bin/recap.js', 'send', '--week', week], {
      cwd: repoRoot,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        DATABASE_URL: test.url,
        SMTP_URL: sink.url,
        SMTP_MAX_CONNECTIONS: '2',
        RECAP_TZ: 'UTC',
        RECAP_SECRET: 'test-secret-test-secret-test-secret-0123',
        PUBLIC_URL: 'https://recap.example.test',
        RECAP_FROM_EMAIL: 'recap@news.example.test',
        RECAP_DATA_DIR: '/tmp/recap-delivery-tests',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      child.on('close', (code) => resolve({ code, stdout, stderr })),
    );
  }

  it('both exit 0 and every subscriber gets exactly one message, in each of three races', async () => {
    for (const [index, week] of WEEKS.entries()) {
      // One list, three weeks: the first seeding adds the subscribers, the others reuse them.
      await seedSend(test.db, index === 0 ? AUDIENCE : 0, { week });
      // A built issue, so `recap send` freezes its content (the repeatable-read transaction that raced).
      await test.db.updateTable('issues').set({ built_at: new Date() }).where('week', '=', week).execute();

      const [first, second] = await Promise.all([send(week), send(week)]);
      for (const run of [first, second]) {
        expect(run.stderr).not.toMatch(/could not serialize|deadlock|unexpected error|\n\s+at /);
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout).toContain(`week ${week} `);
      }
      const received = sink.messages.filter((m) => m.parsed.messageId?.startsWith(`<recap.${week}.`));
      const recipients = received.map((m) => m.envelopeTo.join(','));
      expect(new Set(recipients).size).toBe(AUDIENCE);
      expect(received).toHaveLength(AUDIENCE);
      const issue = await test.db
        .selectFrom('issues')
        .select(['status', 'content_snapshot'])
        .where('week', '=', week)
        .executeTakeFirstOrThrow();
      expect(issue.status).toBe('sent');
      expect(issue.content_snapshot).not.toBeNull();
    }
  }, 300_000);
});
