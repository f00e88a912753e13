import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/connect.ts';
import { socketPathFor } from '../../src/db/embedded-folder.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { tempWorkdir } from '../support/cli.ts';

// Real processes on one embedded folder: a holder serving it, clients going through its socket.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const holderScript = path.join(root, 'test/support/hold-embedded.ts');
const children: ChildProcessWithoutNullStreams[] = [];

interface Reply {
  rows?: Array<Record<string, unknown>>;
  error?: string;
}

interface RecapProcess {
  child: ChildProcessWithoutNullStreams;
  ready: Promise<void>;
  exited: Promise<number | null>;
  /** Replies come back in the order statements were sent to this process. */
  send(statement: string | { sql: string; params: unknown[] }): Promise<Reply>;
  output(): string;
}

function startProcess(dataDir: string, share: boolean, command?: string[]): RecapProcess {
  const child = spawn(
    command?.[0] ?? process.execPath,
    command?.slice(1) ?? ['--import', 'tsx', holderScript, dataDir, share ? 'share' : 'alone'],
    { cwd: root, env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test' } },
  );
  children.push(child);
  let output = '';
  let buffered = '';
  const waiting: Array<(reply: Reply) => void> = [];
  let markReady: () => void = () => {};
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    exited.then((code) => reject(new Error(`exited with ${code} before it was ready: ${output}`)));
  });
  ready.catch(() => {});
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    buffered += chunk.toString();
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line === 'ready') markReady();
      else if (line.startsWith('{')) waiting.shift()?.(JSON.parse(line) as Reply);
      newline = buffered.indexOf('\n');
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return {
    child,
    ready,
    exited,
    output: () => output,
    send(statement) {
      return new Promise((resolve) => {
        waiting.push(resolve);
        child.stdin.write(`${typeof statement === 'string' ? statement : JSON.stringify(statement)}\n`);
      });
    },
  };
}

const count = (reply: Reply) => Number(reply.rows?.[0]?.n);
const insert = (who: string) => ({
  sql: 'INSERT INTO probe (who) VALUES ($1) RETURNING txid_current()::text AS txid',
  params: [who],
});
const txid = (reply: Reply) => reply.rows?.[0]?.txid;
/** Gives a statement that should wait every chance to run early; what is asserted is what it saw. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 400));

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

describe('the embedded database served by its holder', () => {
  const dataDir = path.join(tempWorkdir('recap-share-'), 'data');
  let holder: RecapProcess;
  let a: RecapProcess;
  let b: RecapProcess;

  beforeAll(async () => {
    holder = startProcess(dataDir, true);
    await holder.ready;
    a = startProcess(dataDir, false);
    b = startProcess(dataDir, false);
    await Promise.all([a.ready, b.ready]);
    expect(await holder.send('CREATE TABLE probe (id serial PRIMARY KEY, who text NOT NULL)')).toEqual({
      rows: [],
    });
  }, 180_000);

  it("runs one client's transaction whole while another client and the holder write", async () => {
    await a.send('BEGIN');
    const ownTransaction = txid(await a.send(insert('a')));
    const before = count(await a.send('SELECT count(*) AS n FROM probe'));
    const fromB = b.send(insert('b'));
    const fromHolder = holder.send(insert('holder'));
    await settle();
    const after = count(await a.send('SELECT count(*) AS n FROM probe'));
    await a.send('COMMIT');
    expect((await fromB).error).toBeUndefined();
    expect((await fromHolder).error).toBeUndefined();

    // PGlite is one session: a statement let in between would have run inside a's transaction.
    expect(after).toBe(before);
    expect(txid(await fromB)).not.toBe(ownTransaction);
    expect(txid(await fromHolder)).not.toBe(ownTransaction);
    expect(count(await b.send('SELECT count(*) AS n FROM probe'))).toBe(3);
  }, 60_000);

  it("lets the others go on after a client's failing statement and its rolled-back transaction", async () => {
    const failed = await b.send('SELECT 1/0');
    expect(failed.error).toMatch(/division by zero/);
    expect(count(await a.send('SELECT count(*) AS n FROM probe'))).toBe(3);

    await b.send('BEGIN');
    await b.send(insert('doomed'));
    expect((await b.send('SELECT 1/0')).error).toMatch(/division by zero/);
    const fromA = a.send('SELECT count(*)::int AS n FROM probe');
    await settle();
    await b.send('ROLLBACK');
    // Let in before the rollback, it would have failed: "current transaction is aborted".
    expect(await fromA).toEqual({ rows: [{ n: 3 }] });
  }, 60_000);

  it('rolls back the transaction of a client killed inside it, and the others go on', async () => {
    const c = startProcess(dataDir, false);
    await c.ready;
    await c.send('BEGIN');
    await c.send(insert('killed'));
    const fromA = a.send('SELECT count(*) AS n FROM probe');
    c.child.kill('SIGKILL');
    await c.exited;
    expect(count(await fromA)).toBe(3);
    const killed = await holder.send("SELECT count(*) AS n FROM probe WHERE who = 'killed'");
    expect(count(killed)).toBe(0);
  }, 60_000);

  it('applies no migration through the holder: it migrated when it opened the folder', async () => {
    const handle = await connectDatabase({ databaseUrl: undefined, dataDir, migrate: false });
    try {
      expect(await migrateToLatest(handle.db)).toEqual([]);
      const probe = await handle.db
        .selectFrom('subscribers')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(probe.n)).toBe(0);
    } finally {
      await handle.close();
    }
    // The socket stays with the holder: this process was only a client.
    expect(existsSync(path.join(dataDir, 'recap.sock'))).toBe(true);
    expect(count(await a.send('SELECT count(*) AS n FROM probe'))).toBe(3);
  }, 60_000);
});

describe('a lock never outlives its holder', () => {
  it('opens a folder whose holder was killed and is an unreaped zombie', async () => {
    const dataDir = path.join(tempWorkdir('recap-zombie-'), 'data');
    // `exec sleep` makes sleep the holder's parent; sleep never waits for its children.
    const shell = startProcess(dataDir, true, [
      'sh',
      '-c',
      `echo "pid $$"; ${process.execPath} --import tsx ${holderScript} ${dataDir} share & echo "holder $!"; exec sleep 1000`,
    ]);
    await shell.ready;
    const holderPid = Number(/holder (\d+)/.exec(shell.output())?.[1]);
    process.kill(holderPid, 'SIGKILL');
    while (processState(holderPid) !== 'Z') await new Promise((resolve) => setTimeout(resolve, 50));
    expect(() => process.kill(holderPid, 0)).not.toThrow(); // kill(pid, 0) would call it alive

    const next = startProcess(dataDir, true);
    await next.ready;
    expect(await next.send('SELECT 1 AS n')).toEqual({ rows: [{ n: 1 }] });
    expect(processState(holderPid)).toBe('Z');
    next.child.kill('SIGTERM');
    expect(await next.exited).toBe(0);
  }, 300_000);

  it('ignores a lock file naming a live program that is not recap, and a stale socket', async () => {
    const dataDir = path.join(tempWorkdir('recap-stale-'), 'data');
    const stale = startProcess(dataDir, false, [
      process.execPath,
      '-e',
      `require('node:fs').mkdirSync(${JSON.stringify(dataDir)}, { recursive: true });
       require('node:net').createServer().listen(${JSON.stringify(path.join(dataDir, 'recap.sock'))}, () => console.log('ready'));`,
    ]);
    await stale.ready;
    stale.child.kill('SIGKILL');
    await stale.exited;
    expect(existsSync(path.join(dataDir, 'recap.sock'))).toBe(true);
    writeFileSync(path.join(dataDir, 'recap.lock'), '1 serve\n'); // pid 1: alive, not recap

    const opener = startProcess(dataDir, false);
    await opener.ready;
    expect(await opener.send('SELECT 1 AS n')).toEqual({ rows: [{ n: 1 }] });
    opener.child.stdin.end();
    expect(await opener.exited).toBe(0);
  }, 300_000);

  it("ignores a lock file naming the opening process's own pid", async () => {
    const dataDir = path.join(tempWorkdir('recap-ownpid-'), 'data');
    // `exec` keeps the shell's pid: the lock names the very process that then opens the folder.
    const opener = startProcess(dataDir, false, [
      'sh',
      '-c',
      `mkdir -p ${dataDir} && echo "$$ serve" > ${dataDir}/recap.lock && exec ${process.execPath} --import tsx ${holderScript} ${dataDir} alone`,
    ]);
    await opener.ready;
    expect(await opener.send('SELECT 1 AS n')).toEqual({ rows: [{ n: 1 }] });
    opener.child.stdin.end();
    expect(await opener.exited).toBe(0);
    expect(existsSync(path.join(dataDir, 'recap.lock'))).toBe(false);
  }, 300_000);

  it('tells a second command that a short command holds the folder, and serves nobody meanwhile', async () => {
    const dataDir = path.join(tempWorkdir('recap-busy-'), 'data');
    const alone = startProcess(dataDir, false);
    await alone.ready;
    const second = startProcess(dataDir, false);
    expect(await second.exited).not.toBe(0);
    expect(second.output()).toContain('in use by `test holder`');
    expect(second.output()).toContain(`pid ${alone.child.pid}`);
    alone.child.stdin.end();
    expect(await alone.exited).toBe(0);
    expect(existsSync(path.join(dataDir, 'recap.sock'))).toBe(false);
  }, 300_000);
});

describe('the socket path', () => {
  it('is in the data folder when it fits a socket address, else a short path in the temp folder', () => {
    expect(socketPathFor('/srv/recap/data')).toBe('/srv/recap/data/recap.sock');
    const deep = `/srv/${'nested/'.repeat(20)}data`;
    const fallback = socketPathFor(deep);
    expect(Buffer.byteLength(fallback)).toBeLessThan(104);
    expect(fallback).toMatch(/\/recap-[0-9a-f]{16}\.sock$/);
    expect(socketPathFor(deep)).toBe(fallback);
    expect(socketPathFor(`${deep}2`)).not.toBe(fallback);
  });
});

/** The state letter of /proc/PID/stat: R, S, Z (zombie)… */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}
