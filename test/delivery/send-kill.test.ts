import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSend } from '../../src/delivery/start-send.ts';
import { createTestDatabase, type TestDatabase, testDatabaseUrl } from '../support/database.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { seedSend } from './send-fixtures.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const CONNECTIONS = 2;
const AUDIENCE = 400;

/**
 * kill -9 during a send, three times: a real `recap worker` child process on the real PostgreSQL and an
 * in-process SMTP server. Counts, per crash, the messages sent again (same Message-ID) and how long the
 * rows the dead worker held stayed blocked before a restarted worker sent them. The figures are logged
 * (docs/sending.md quotes them); the assertions bound what can repeat and how long a lease may last.
 */
describe.runIf(testDatabaseUrl)('kill -9 during a send', () => {
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

  function worker(week: string) {
    const child = spawn(process.execPath, ['bin/recap.js', 'worker', '--week', week], {
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

  const received = (week: string) =>
    sink.messages.filter((m) => m.parsed.messageId?.startsWith(`<recap.${week}.`));

  async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 300_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error('timed out waiting');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('re-sends at most a few messages per crash, and a restarted worker takes the dead lease over within seconds', async () => {
    const figures: Array<{ crash: number; resent: number; heldByDead: number; resumeMs: number }> = [];
    for (const [index, week] of ['2026-W48', '2026-W49', '2026-W50'].entries()) {
      const seeded = await seedSend(test.db, index === 0 ? AUDIENCE : 0, { week });
      await startSend(test.db, seeded.issueId, { messageIdDomain: 'news.example.test' });

      const first = worker(week);
      await until(() => received(week).length >= 120);
      first.child.kill('SIGKILL');
      await first.exited;
      const killedAt = Date.now();
      const deliveredBeforeKill = new Set(received(week).map((m) => m.envelopeTo[0]));
      const dead = await sql<{ id: string; lease_left_ms: number }>`
        SELECT id, extract(epoch FROM lease_expires_at - now()) * 1000 AS lease_left_ms
        FROM deliveries WHERE issue_id = ${seeded.issueId} AND status = 'queued' AND lease_expires_at > now()
      `.execute(test.db);
      const deadIds = dead.rows.map((row) => row.id);
      expect(deadIds.length).toBeGreaterThan(0);
      // A lease is short: a crashed worker's rows are free again well within 30 seconds.
      for (const row of dead.rows) expect(Number(row.lease_left_ms)).toBeLessThanOrEqual(30_000);

      const second = worker(week);
      let resumeMs = -1;
      await until(async () => {
        const left = await sql<{ n: string }>`
          SELECT count(*) AS n FROM deliveries WHERE id = ANY (${deadIds}::bigint[]) AND status = 'queued'
        `.execute(test.db);
        if (Number(left.rows[0]?.n) > 0) return false;
        resumeMs = Date.now() - killedAt;
        return true;
      });
      const result = await second.exited;
      expect(result.code, result.stderr).toBe(0);

      const copies = new Map<string, number>();
      for (const message of received(week)) {
        const to = message.envelopeTo[0] as string;
        copies.set(to, (copies.get(to) ?? 0) + 1);
      }
      expect(copies.size).toBe(AUDIENCE);
      const resent = [...copies].filter(([to, n]) => n > 1 && deliveredBeforeKill.has(to)).length;
      expect([...copies.values()].every((n) => n <= 2)).toBe(true);
      figures.push({ crash: index + 1, resent, heldByDead: deadIds.length, resumeMs });
    }
    console.log(`kill -9 figures (${CONNECTIONS} SMTP connections): ${JSON.stringify(figures)}`);
    // Only messages in flight when the process died can go out twice: at most two per lane (one on the wire,
    // one whose result was being written), and a worker runs two lanes per connection.
    for (const figure of figures) expect(figure.resent).toBeLessThanOrEqual(4 * CONNECTIONS);
  }, 600_000);
});
