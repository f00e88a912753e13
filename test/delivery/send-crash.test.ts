import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/database.ts';
import { messageFactoryFor } from '../../src/delivery/edition-messages.ts';
import { runWorker } from '../../src/delivery/send-worker.ts';
import { startSend } from '../../src/delivery/start-send.ts';
import { createMailer } from '../../src/mail/create-mailer.ts';
import {
  createTestDatabase,
  secondConnection,
  type TestDatabase,
  testDatabaseUrl,
} from '../support/database.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { type SeededSend, seedSend, testConfig, WEEK } from './send-fixtures.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Every subscriber received the issue at least once, and each copy of one subscriber's mail has one Message-ID. */
function assertEveryoneOnce(sink: SmtpSink, seeded: SeededSend, allowDuplicates: boolean) {
  const byRecipient = new Map<string, Set<string>>();
  const copies = new Map<string, number>();
  for (const message of sink.messages) {
    const to = message.envelopeTo[0] as string;
    byRecipient.set(to, (byRecipient.get(to) ?? new Set()).add(message.parsed.messageId ?? ''));
    copies.set(to, (copies.get(to) ?? 0) + 1);
  }
  expect([...byRecipient.keys()].sort()).toEqual([...seeded.subscribers.keys()].sort());
  for (const [to, ids] of byRecipient) {
    expect(ids.size, `one Message-ID for ${to}`).toBe(1);
    expect([...ids][0]).toBe(`<recap.${WEEK}.${seeded.subscribers.get(to)}@news.example.test>`);
  }
  const duplicated = [...copies.values()].filter((n) => n > 1).length;
  if (!allowDuplicates) expect(duplicated).toBe(0);
  return duplicated;
}

describe('several workers on one queue', () => {
  let test: TestDatabase;
  let seeded: SeededSend;
  let sink: SmtpSink;

  beforeEach(async () => {
    test = await createTestDatabase();
    seeded = await seedSend(test.db, 240);
    await startSend(test.db, seeded.issueId, { messageIdDomain: 'news.example.test' });
    sink = await startSmtpSink();
  });
  afterEach(async () => {
    await sink?.close();
    await test?.close();
  });

  it('four workers in this process, each on its own connection where the database allows, mail nobody twice', async () => {
    const config = testConfig({ SMTP_URL: sink.url, SMTP_MAX_CONNECTIONS: '2' });
    const connections: Db[] = test.url
      ? [0, 1, 2, 3].map(() => secondConnection(test.url as string))
      : [test.db];
    try {
      const summaries = await Promise.all(
        [0, 1, 2, 3].map(async (n) => {
          const mailer = createMailer(config);
          try {
            return await runWorker({
              db: connections[n % connections.length] as Db,
              mailer,
              config,
              workerId: `in-process-${n}`,
              issueId: seeded.issueId,
              messages: async () => messageFactoryFor(seeded.content, config),
              batchSize: 20,
              pollMs: 50,
            });
          } finally {
            await mailer.close();
          }
        }),
      );
      expect(summaries.reduce((sum, s) => sum + s.sent, 0)).toBe(240);
      expect(summaries.filter((s) => s.sent > 0).length).toBeGreaterThan(1);
      assertEveryoneOnce(sink, seeded, false);
    } finally {
      if (test.url) await Promise.all(connections.map((db) => db.destroy()));
    }
  });
});

// Other processes cannot open an in-memory PGlite: these run where a PostgreSQL server is configured (CI).
describe.runIf(testDatabaseUrl)('worker processes on the real PostgreSQL', () => {
  let test: TestDatabase;
  let seeded: SeededSend;
  let sink: SmtpSink;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    test = await createTestDatabase();
    seeded = await seedSend(test.db, 300);
    await startSend(test.db, seeded.issueId, { messageIdDomain: 'news.example.test' });
    sink = await startSmtpSink();
  });
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    await sink?.close();
    await test?.close();
  });

  function worker(leaseSeconds: number) {
    return recap(['worker', '--week', WEEK, '--lease-seconds', String(leaseSeconds)]);
  }

  /** The real CLI as a child process, on this test's database and SMTP sink. */
  function recap(argv: string[]): {
    child: ChildProcess;
    exited: Promise<{ code: number | null; stderr: string; stdout: string }>;
  } {
    const child = spawn(process.execPath, ['bin/recap.js', ...argv], {
      cwd: repoRoot,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        DATABASE_URL: test.url,
        SMTP_URL: sink.url,
        SMTP_MAX_CONNECTIONS: '2',
        SEND_BATCH_SIZE: '25',
        RECAP_SECRET: 'test-secret-test-secret-test-secret-0123',
        PUBLIC_URL: 'https://recap.example.test',
        RECAP_FROM_EMAIL: 'recap@news.example.test',
        RECAP_DATA_DIR: '/tmp/recap-delivery-tests',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    let stdout = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
    });
    const exited = new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) =>
      child.on('close', (code) => resolve({ code, stderr, stdout })),
    );
    return { child, exited };
  }

  async function until(condition: () => boolean, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('timed out waiting');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('a worker killed with SIGKILL mid-send loses nobody: another finishes, and any duplicate has the same Message-ID', async () => {
    const first = worker(2);
    await until(() => sink.messages.length >= 40);
    first.child.kill('SIGKILL');
    await first.exited;
    const before = sink.messages.length;
    expect(before).toBeLessThan(300);

    const second = worker(2);
    const result = await second.exited;
    expect(result.code, result.stderr).toBe(0);
    const duplicated = assertEveryoneOnce(sink, seeded, true);
    // Only messages in flight at the kill can repeat: at most a flush window plus the open connections.
    expect(duplicated).toBeLessThanOrEqual(100 + 2 * 2);
    const rows = await test.db
      .selectFrom('deliveries')
      .select('status')
      .where('status', '<>', 'sent')
      .execute();
    expect(rows).toHaveLength(0);
    const issue = await test.db
      .selectFrom('issues')
      .select('status')
      .where('id', '=', seeded.issueId)
      .executeTakeFirstOrThrow();
    expect(issue.status).toBe('sent');
  });

  it('four worker processes share the queue without sending anything twice', async () => {
    const workers = [0, 1, 2, 3].map(() => worker(30));
    const results = await Promise.all(workers.map((w) => w.exited));
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    assertEveryoneOnce(sink, seeded, false);
    const counts = await test.db
      .selectFrom('deliveries')
      .select(['lease_owner', 'status'])
      .where('status', '=', 'sent')
      .execute();
    expect(counts).toHaveLength(300);
  });

  it('recap send pause|status|resume and recap send control the send from the command line', async () => {
    const paused = await recap(['send', 'pause', '--week', WEEK, '--reason', 'checking the subject']).exited;
    expect(paused.code, paused.stderr).toBe(0);
    const refused = await recap(['send', '--week', WEEK]).exited;
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe(
      `recap: the send of ${WEEK} is paused (checking the subject): "recap send resume --week ${WEEK}" continues it`,
    );
    const status = await recap(['send', 'status', '--week', WEEK, '--json']).exited;
    expect(JSON.parse(status.stdout)).toMatchObject({
      week: WEEK,
      status: 'paused',
      reason: 'checking the subject',
      audience: { eligible: 300 },
      deliveries: { queued: 300, sent: 0 },
    });
    expect((await recap(['send', 'resume', '--week', WEEK]).exited).code).toBe(0);
    const sent = await recap(['send', '--week', WEEK]).exited;
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(
      new RegExp(`^${WEEK}: sent 300 · failed 0 · bounced 0 · skipped 0 · retried 0 · `, 'm'),
    );
    // Not a terminal: one JSON line per batch on stderr.
    expect(sent.stderr).toContain('"event":"send.progress"');
    const again = await recap(['send', '--week', WEEK]).exited;
    expect(again.stdout).toContain('sent 0 ·');
    expect(again.stdout).toContain('(nothing left to send)');
    assertEveryoneOnce(sink, seeded, false);
  });
});
