import { type ChildProcessByStdio, spawn } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/connect.ts';
import type { Db } from '../../src/db/database.ts';
import { HANDLED_FOLDER, UNHANDLED_FOLDER } from '../../src/delivery/bounces/poll-bounce-mailbox.ts';
import {
  bounceAddress,
  mailboxArf,
  mailboxDsn,
  mailboxOutOfOffice,
  mailboxSpam,
} from '../delivery/bounces/mailbox-fixtures.ts';
import { runCli, tempWorkdir } from '../support/cli.ts';
import { testDatabaseUrl } from '../support/database.ts';
import { DOVECOT_PASSWORD, type RunningDovecot, startDovecot } from '../support/dovecot.ts';
import { SECRET } from '../web/web-fixtures.ts';

// `recap serve` and `recap schedule`, the built CLI as a user runs it, polling one bounce mailbox.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = tempWorkdir('recap-bounce-mailbox-');
let dovecot: RunningDovecot | undefined;
const running: Array<ChildProcessByStdio<null, Readable, Readable>> = [];
afterAll(async () => {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
  await dovecot?.stop();
});

interface Service {
  output(): string;
  alive(): boolean;
  stop(): Promise<number | null>;
}

/** Starts a long-running `recap` command; resolves once its output matches `ready`. */
async function startService(args: string[], env: Record<string, string>, ready: RegExp): Promise<Service> {
  const child = spawn(process.execPath, [path.join(root, 'bin/recap.js'), ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) resolve();
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    void exited.then((code) => reject(new Error(`recap ${args[0]} exited with ${code}:\n${output}`)));
  });
  return {
    output: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

async function until(
  done: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The database the commands use: the test server's, or the embedded one in RECAP_DATA_DIR. */
async function openDatabase(env: Record<string, string>): Promise<{ db: Db; close(): Promise<void> }> {
  return connectDatabase({
    databaseUrl: env.DATABASE_URL,
    dataDir: env.RECAP_DATA_DIR ?? '',
    command: 'test',
  });
}

describe('bounce mailbox polled by recap serve and recap schedule', () => {
  it('both poll one mailbox: the DSN and the ARF act once, the rest goes to Recap-Unhandled; an outage is retried', async () => {
    dovecot = await startDovecot();
    let databaseUrl: string | undefined;
    let dropDatabase: (() => Promise<void>) | undefined;
    if (testDatabaseUrl) {
      const { createTestDatabase } = await import('../support/database.ts');
      const database = await createTestDatabase();
      databaseUrl = database.url;
      dropDatabase = database.close;
    }
    const env: Record<string, string> = {
      RECAP_DATA_DIR: path.join(dir, 'data'),
      RECAP_OUTBOX_DIR: path.join(dir, 'outbox'),
      RECAP_SECRET: SECRET,
      RECAP_FROM_EMAIL: 'recap@recap.test',
      PUBLIC_URL: 'https://recap.example.com',
      // A cron whose last fire is months old: the schedule has nothing to send here.
      RECAP_CRON: '0 8 1 1 *',
      BOUNCE_IMAP_URL: dovecot.url,
      BOUNCE_IMAP_POLL_SECONDS: '1',
      NODE_EXTRA_CA_CERTS: dovecot.certFile,
      LOG_FORMAT: 'json',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    };

    // Three readers who got issue 1; the embedded database is closed again before the commands start.
    const seeding = await openDatabase(env);
    const readers = await seeding.db
      .insertInto('subscribers')
      .values(
        ['alice', 'bob', 'carol'].map((name) => ({
          email: `${name}@example.org`,
          status: 'active' as const,
        })),
      )
      .returning('id')
      .execute();
    const issue = await seeding.db
      .insertInto('issues')
      .values({ week: '2026-W49', status: 'sent' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await seeding.close();
    const [alice, bob, carol] = readers.map((row) => row.id);
    if (!alice || !bob || !carol) throw new Error('seed failed');

    await dovecot.deliver(mailboxDsn(bounceAddress(alice, issue.id), '<dsn-1@mx.example.org>'));
    await dovecot.deliver(mailboxArf(bounceAddress(bob, issue.id), '<arf-1@isp.example>'));
    await dovecot.deliver(mailboxOutOfOffice(bounceAddress(carol, issue.id), '<ooo-1@example.org>'));
    await dovecot.deliver(mailboxSpam('<spam-1@spam.example>'));

    const serve = await startService(['serve', '--port', '0'], env, /serving on/);
    const schedule = await startService(['schedule'], env, /polling bounce mailbox/);
    const mailbox = dovecot;
    await until(
      async () =>
        (await mailbox.messageIds(HANDLED_FOLDER)).length === 2 &&
        (await mailbox.messageIds(UNHANDLED_FOLDER)).length === 2,
      'four messages moved',
    );
    expect(await dovecot.messageIds('INBOX')).toEqual([]);
    expect(await dovecot.messageIds(HANDLED_FOLDER)).toEqual([
      '<arf-1@isp.example>',
      '<dsn-1@mx.example.org>',
    ]);
    expect(await dovecot.messageIds(UNHANDLED_FOLDER)).toEqual([
      '<ooo-1@example.org>',
      '<spam-1@spam.example>',
    ]);

    // The server stops under both pollers: logged and retried, both processes keep running.
    await dovecot.stop();
    await until(
      () => [serve, schedule].every((service) => (service.output().match(/poll failed/g) ?? []).length >= 2),
      'two failed polls in each process',
    );
    expect(serve.alive() && schedule.alive()).toBe(true);
    expect(serve.output()).toMatch(/poll failed \([^)]*\); retry 1 in/);
    expect(serve.output() + schedule.output()).not.toContain(DOVECOT_PASSWORD);

    await dovecot.restart();
    await dovecot.deliver(mailboxDsn(bounceAddress(carol, issue.id), '<dsn-2@mx.example.org>'));
    await until(
      async () => (await mailbox.messageIds(HANDLED_FOLDER)).includes('<dsn-2@mx.example.org>'),
      'the DSN delivered after the outage handled',
    );
    await until(
      () => [serve, schedule].some((service) => service.output().includes('reachable again')),
      'reachable again',
    );
    expect(await serve.stop()).toBe(0);
    expect(await schedule.stop()).toBe(0);

    // A restart: one more run finds nothing to act on.
    const again = await runCli(['schedule', '--once'], env);
    expect(again.code).toBe(0);

    const check = await openDatabase(env);
    try {
      const status = async (id: string) =>
        (
          await check.db
            .selectFrom('subscribers')
            .select('status')
            .where('id', '=', id)
            .executeTakeFirstOrThrow()
        ).status;
      const actions = async (id: string) =>
        (
          await check.db
            .selectFrom('consent_log')
            .select('action')
            .where('subscriber_id', '=', id)
            .orderBy('id')
            .execute()
        ).map((row) => row.action);
      expect(await status(alice)).toBe('bounced');
      expect(await status(bob)).toBe('complained');
      expect(await status(carol)).toBe('bounced');
      expect(await actions(alice)).toEqual(['suppressed-hard-bounce']);
      expect(await actions(bob)).toEqual(['complaint']);
      expect(await actions(carol)).toEqual(['suppressed-hard-bounce']);
      const rows = await check.db
        .selectFrom('bounce_mailbox_messages')
        .select(['outcome', 'folder'])
        .execute();
      expect(rows.map((row) => `${row.folder} ${row.outcome}`).sort()).toEqual([
        `${HANDLED_FOLDER} complaint`,
        `${HANDLED_FOLDER} hard-bounce`,
        `${HANDLED_FOLDER} hard-bounce`,
        `${UNHANDLED_FOLDER} dropped`,
        `${UNHANDLED_FOLDER} dropped`,
      ]);
    } finally {
      await check.close();
      await dropDatabase?.();
    }
  }, 120_000);

  it('recap doctor connects and logs in to the mailbox, and names what fails', async () => {
    dovecot ??= await startDovecot();
    const env = {
      RECAP_DATA_DIR: path.join(dir, 'doctor'),
      RECAP_SECRET: SECRET,
      PUBLIC_URL: 'https://recap.example.com',
      BOUNCE_IMAP_URL: dovecot.url,
      NODE_EXTRA_CA_CERTS: dovecot.certFile,
    };
    const line = (stdout: string) =>
      stdout.split('\n').find((text) => text.includes('Bounce mailbox')) ?? stdout;
    const good = await runCli(['doctor'], env);
    expect(line(good.stdout)).toMatch(
      /^✓ Bounce mailbox reachable: imaps:\/\/recap-bounces:\*\*\*@localhost:\d+\/INBOX: logged in over TLS/,
    );
    const refused = await runCli(['doctor'], {
      ...env,
      BOUNCE_IMAP_URL: dovecot.url.replace(DOVECOT_PASSWORD, 'wrong-password'),
    });
    expect(line(refused.stdout)).toMatch(
      /^✗ Bounce mailbox reachable: imaps:\/\/recap-bounces:\*\*\*@localhost:\d+\/INBOX: cannot log in: login refused/,
    );
    expect(refused.stdout).not.toContain('wrong-password');
    expect(refused.code).toBe(1);
  }, 120_000);
});
