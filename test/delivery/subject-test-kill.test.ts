import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjectRule } from '../../src/delivery/drain-issue.ts';
import { runWorker } from '../../src/delivery/send-worker.ts';
import { startSend } from '../../src/delivery/start-send.ts';
import { decideDueSubjectTest } from '../../src/delivery/subject-test.repository.ts';
import { saveSubjectVariant } from '../../src/issues/subject-variants.repository.ts';
import { createSmtpMailer } from '../../src/mail/smtp-mailer.ts';
import { insertTrackingEvents } from '../../src/tracking/event-rollups.ts';
import { createTestDatabase, type TestDatabase, testDatabaseUrl } from '../support/database.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { seedSend, testConfig } from './send-fixtures.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const CONNECTIONS = 2;
const AUDIENCE = 600;
const WEEK = '2026-W48';
const SUBJECT_B = 'Winner: the subject readers clicked';

/**
 * kill -9 of a `recap worker` child during the winner phase of a subject test, on the real PostgreSQL,
 * with an in-process SMTP server: every reader gets the issue (no one lost), the held readers with the
 * winner's subject, and only messages in flight at the kill can arrive twice (as for any send).
 */
describe.runIf(testDatabaseUrl)('kill -9 during the winner phase of a subject test', () => {
  let test: TestDatabase;
  let sink: SmtpSink;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    test = await createTestDatabase();
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    await sink?.close();
    await test?.close();
  });

  function worker() {
    const child = spawn(process.execPath, ['bin/recap.js', 'worker', '--week', WEEK], {
      cwd: repoRoot,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        DATABASE_URL: test.url,
        SMTP_URL: sink.url,
        SMTP_MAX_CONNECTIONS: String(CONNECTIONS),
        RECAP_SECRET: 'test-secret-test-secret-test-secret-0123',
        PUBLIC_URL: 'https://recap.example.test',
        RECAP_FROM_EMAIL: 'recap@news.example.test',
        RECAP_DATA_DIR: '/tmp/recap-delivery-tests',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
      child.on('close', (code) => resolve({ code, stderr })),
    );
    return { child, exited };
  }

  async function until(condition: () => boolean, timeoutMs = 120_000) {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('timed out waiting');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('loses nobody: every reader gets the issue, the held ones with the winner’s subject', async () => {
    const { db } = test;
    await saveSubjectVariant(db, WEEK, 'B', { subject: SUBJECT_B, preheader: null }, 'cli');
    const seeded = await seedSend(db, AUDIENCE, { week: WEEK });
    await startSend(db, seeded.issueId, {
      messageIdDomain: 'news.example.test',
      subjectTest: { variants: ['A', 'B'], share: 0.3, hours: 4 },
    });
    const config = testConfig({ SMTP_URL: sink.url });
    const mailer = createSmtpMailer({ url: sink.url, maxConnections: CONNECTIONS });
    try {
      const phase = await runWorker({
        db,
        mailer,
        config,
        workerId: 'test-phase',
        issueId: seeded.issueId,
        leaveWaiting: true,
      });
      expect(phase.waiting?.subjectTest).toBe(true);
    } finally {
      await mailer.close();
    }
    const inTest = sink.messages.length;
    const groups = await sql<{ subscriber_id: string; subject_group: string }>`
      SELECT subscriber_id, subject_group FROM deliveries WHERE issue_id = ${seeded.issueId} ORDER BY id
    `.execute(db);
    const of = (group: string) =>
      groups.rows.filter((r) => r.subject_group === group).map((r) => r.subscriber_id);
    const click = (id: string) => ({
      kind: 'click' as const,
      issue_id: seeded.issueId,
      subscriber_id: id,
      class: 'human' as const,
    });
    await insertTrackingEvents(db, [
      ...of('B')
        .filter((_, i) => i % 2 === 0)
        .map(click),
      ...of('A').slice(0, 20).map(click),
    ]);
    await sql`UPDATE subject_tests SET decide_at = now() WHERE issue_id = ${seeded.issueId}`.execute(db);
    expect((await decideDueSubjectTest(db, seeded.issueId, subjectRule(config)))?.winner).toBe('B');

    const first = worker();
    await until(() => sink.messages.length >= inTest + 120);
    first.child.kill('SIGKILL');
    await first.exited;
    const second = worker();
    const result = await second.exited;
    expect(result.code, result.stderr).toBe(0);

    const emailOf = new Map([...seeded.subscribers].map(([email, id]) => [id, email] as const));
    const copies = new Map<string, string[]>();
    for (const message of sink.messages) {
      const to = message.envelopeTo[0] as string;
      copies.set(to, [...(copies.get(to) ?? []), String(message.parsed.subject)]);
    }
    expect(copies.size).toBe(AUDIENCE);
    const twice = [...copies.values()].filter((subjects) => subjects.length > 1).length;
    console.log(
      `subject test kill -9: ${of('held').length} held readers, ${twice} received twice (in flight at the kill)`,
    );
    expect([...copies.values()].every((subjects) => subjects.length <= 2)).toBe(true);
    expect(twice).toBeLessThanOrEqual(4 * CONNECTIONS);
    for (const id of of('held')) {
      const subjects = copies.get(emailOf.get(id) as string) ?? [];
      expect(subjects.length).toBeGreaterThan(0);
      for (const subject of subjects) expect(subject).toBe(SUBJECT_B);
    }
    const left = await sql<{ n: string }>`
      SELECT count(*) AS n FROM deliveries WHERE issue_id = ${seeded.issueId} AND status <> 'sent'
    `.execute(db);
    expect(Number(left.rows[0]?.n)).toBe(0);
  }, 180_000);

  it('two `recap schedule --once` processes racing over a due test decide it once; the decider sends the rest once', async () => {
    const { db } = test;
    const week = '2026-W49';
    await saveSubjectVariant(db, week, 'B', { subject: SUBJECT_B, preheader: null }, 'cli');
    const seeded = await seedSend(db, 60, { week, offset: 10_000 });
    const audience = await startSend(db, seeded.issueId, {
      messageIdDomain: 'news.example.test',
      subjectTest: { variants: ['A', 'B'], share: 0.3, hours: 4 },
    });
    await sql`UPDATE subject_tests SET decide_at = now() WHERE issue_id = ${seeded.issueId}`.execute(db);
    await sql`UPDATE deliveries SET not_before = now() WHERE issue_id = ${seeded.issueId} AND subject_group = 'held'`.execute(
      db,
    );
    const before = sink.messages.length;
    const schedule = () => {
      const child = spawn(process.execPath, ['bin/recap.js', 'schedule', '--once'], {
        cwd: repoRoot,
        env: {
          ...process.env,
          NODE_ENV: 'test',
          DATABASE_URL: test.url,
          SMTP_URL: sink.url,
          // No slot in the look-back: the cycle does nothing but its checks.
          RECAP_CRON: '0 0 29 2 *',
          RECAP_SECRET: 'test-secret-test-secret-test-secret-0123',
          PUBLIC_URL: 'https://recap.example.test',
          RECAP_DATA_DIR: '/tmp/recap-delivery-tests',
          LOG_FORMAT: 'json',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let out = '';
      child.stdout?.on('data', (chunk) => {
        out += chunk;
      });
      child.stderr?.on('data', (chunk) => {
        out += chunk;
      });
      return new Promise<{ code: number | null; out: string }>((resolve) =>
        child.on('close', (code) => resolve({ code, out })),
      );
    };
    const runs = await Promise.all([schedule(), schedule()]);
    for (const run of runs) expect(run.code, run.out).toBe(0);
    const told = runs.filter((run) => run.out.includes(`subject test of issue ${seeded.issueId} decided`));
    expect(told).toHaveLength(1);
    const row = await db
      .selectFrom('subject_tests')
      .select(['winner', 'reason', 'decided_at'])
      .where('issue_id', '=', seeded.issueId)
      .executeTakeFirstOrThrow();
    expect(row.winner).toBe('A');
    expect(row.reason).toMatch(/^too little data/);
    const held = await sql<{ n: string }>`
      SELECT count(*) AS n FROM deliveries WHERE issue_id = ${seeded.issueId} AND subject_group = 'held' AND subject_variant IS NULL
    `.execute(db);
    expect(Number(held.rows[0]?.n)).toBe(0);
    // The deciding schedule sent the whole issue (nothing had gone out yet), each reader once.
    expect(told[0]?.out).toContain(`the rest of ${week} with variant A: ${audience.eligible} sent`);
    const sent = sink.messages.slice(before).filter((m) => m.parsed.messageId?.startsWith(`<recap.${week}.`));
    expect(new Set(sent.map((m) => m.envelopeTo[0])).size).toBe(audience.eligible);
    expect(sent).toHaveLength(audience.eligible);
  }, 90_000);
});
