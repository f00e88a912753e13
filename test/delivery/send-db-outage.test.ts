import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.ts';
import { createOwnDatabase, type OwnPostgres, startOwnPostgres } from '../support/own-postgres.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { seedSend } from './send-fixtures.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const CONNECTIONS = 2;

/**
 * PostgreSQL stopped (`pg_ctl stop -m immediate`) and started again under a running `recap send`: a
 * cluster of this file's own, the built CLI as a child process, a real SMTP server counting what it gets.
 */
describe('recap send across a database outage', () => {
  let cluster: OwnPostgres;
  let sink: SmtpSink;
  const handles: DatabaseHandle[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    cluster = await startOwnPostgres();
  }, 60_000);
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    for (const handle of handles.splice(0)) await handle.close().catch(() => {});
    await sink?.close();
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  async function freshDatabase(readers: number, week: string) {
    const url = await createOwnDatabase(cluster, `recap_${randomBytes(4).toString('hex')}`);
    const handle = await connectDatabase({ databaseUrl: url, dataDir: 'unused', poolSize: 2 });
    handles.push(handle);
    const seeded = await seedSend(handle.db, readers, { week });
    return { url, db: handle.db, seeded };
  }

  function send(url: string, week: string, env: Record<string, string>) {
    const child = spawn(process.execPath, ['bin/recap.js', 'send', '--week', week], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'test',
        DATABASE_URL: url,
        SMTP_URL: sink.url,
        SMTP_MAX_CONNECTIONS: String(CONNECTIONS),
        SEND_BATCH_SIZE: '50',
        RECAP_SECRET: 'test-secret-test-secret-test-secret-0123',
        PUBLIC_URL: 'https://recap.example.test',
        RECAP_FROM_EMAIL: 'recap@news.example.test',
        RECAP_DATA_DIR: '/tmp/recap-delivery-tests',
        ...env,
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

  const copiesPerReader = (week: string) => {
    const copies = new Map<string, number>();
    for (const message of sink.messages) {
      if (!message.parsed.messageId?.startsWith(`<recap.${week}.`)) continue;
      const to = message.envelopeTo[0] as string;
      copies.set(to, (copies.get(to) ?? 0) + 1);
    }
    return copies;
  };

  async function until(condition: () => boolean, timeoutMs = 120_000) {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('timed out waiting');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('survives a 15 s outage with no operator: exit 0, everyone once but the messages in flight, issue sent', async () => {
    const week = '2026-W48';
    const readers = 400;
    sink = await startSmtpSink();
    const { url, db, seeded } = await freshDatabase(readers, week);
    // Paced so that the outage falls in the middle of the send.
    const run = send(url, week, { SEND_RATE: '40' });
    await until(() => copiesPerReader(week).size >= 100);
    await cluster.stop('immediate');
    const receivedAtStop = sink.messages.length;
    await sleep(15_000);
    const duringOutage = sink.messages.length - receivedAtStop;
    await cluster.start();
    const result = await run.exited;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/unexpected error|\n\s+at /);
    expect(result.stderr).toContain('PostgreSQL does not answer');

    const copies = copiesPerReader(week);
    expect(copies.size).toBe(readers);
    const repeated = [...copies.values()].filter((n) => n > 1).length;
    // Nothing already recorded goes out again; only messages in flight when it went away may (at most two
    // per lane, two lanes per connection); none at all in practice, as their results are held.
    expect(repeated).toBeLessThanOrEqual(4 * CONNECTIONS);
    expect([...copies.values()].every((n) => n <= 2)).toBe(true);
    // Nothing new is sent while PostgreSQL is away: only what was already on the wire.
    expect(duringOutage).toBeLessThanOrEqual(2 * 2 * CONNECTIONS);
    const issue = await db
      .selectFrom('issues')
      .select(['status'])
      .where('id', '=', seeded.issueId)
      .executeTakeFirstOrThrow();
    expect(issue.status).toBe('sent');
    console.log(
      `database outage 15 s: ${readers} readers, ${repeated} sent twice, ${duringOutage} received during the outage`,
    );
  }, 180_000);

  it('pauses itself with the reason and an alert after SEND_DB_OUTAGE_MAX, and exits with one line', async () => {
    const week = '2026-W49';
    sink = await startSmtpSink();
    const { url, db, seeded } = await freshDatabase(200, week);
    const run = send(url, week, {
      SEND_RATE: '40',
      SEND_DB_OUTAGE_MAX: '3s',
      ALERT_EMAIL: 'ops@example.test',
    });
    await until(() => copiesPerReader(week).size >= 40);
    await cluster.stop('immediate');
    await sleep(8_000);
    await cluster.start();
    const result = await run.exited;
    expect(result.code).toBe(1);
    const last = result.stderr.trim().split('\n').at(-1) ?? '';
    expect(last).toMatch(
      /^recap: send of 2026-W49 stopped: PostgreSQL unreachable for more than 3 s \(SEND_DB_OUTAGE_MAX\): /,
    );
    expect(result.stderr).not.toMatch(/unexpected error|\n\s+at /);
    const issue = await db
      .selectFrom('issues')
      .select(['status', 'status_reason'])
      .where('id', '=', seeded.issueId)
      .executeTakeFirstOrThrow();
    expect(issue.status).toBe('paused');
    expect(issue.status_reason).toMatch(/^PostgreSQL unreachable for more than 3 s/);
    const alerts = await db.selectFrom('alerts').select(['kind', 'cause']).execute();
    expect(alerts).toContainEqual({ kind: 'send-paused', cause: `${week}: ${issue.status_reason}` });
    // What went out before the pause was recorded: a resumed send does not send it again.
    const counts = await db
      .selectFrom('deliveries')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('issue_id', '=', seeded.issueId)
      .where('status', '=', 'sent')
      .executeTakeFirstOrThrow();
    expect(Number(counts.n)).toBe(copiesPerReader(week).size);
  }, 120_000);
});
