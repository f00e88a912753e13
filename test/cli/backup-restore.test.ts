import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/connect.ts';
import { runCli, tempWorkdir } from '../support/cli.ts';
import { type OwnPostgres, startOwnPostgres } from '../support/own-postgres.ts';
import { type ServeProcess, startServe } from '../support/serve-process.ts';

// backup → restore → equal, across both kinds: the built CLI backs up an embedded demo (through the
// `recap serve` holding it), restores it into a new PostgreSQL database of a cluster of this file's
// own, backs that up with pg_dump and restores it into a new embedded folder.
const WEEK = '2026-W49';
const SECRET = 'backup-restore-test-secret-0123456789abcdef';
let cluster: OwnPostgres;
let work: string;
let serve: ServeProcess | undefined;

beforeAll(async () => {
  cluster = await startOwnPostgres();
  work = tempWorkdir('recap-backup-');
}, 120_000);
afterAll(async () => {
  serve?.child.kill('SIGKILL');
  await cluster?.destroy();
});

const embedded = (dir: string) => ({
  RECAP_SECRET: SECRET,
  RECAP_DATA_DIR: path.join(work, dir),
  RECAP_OUTBOX_DIR: path.join(work, `${dir}-outbox`),
});

async function newDatabase(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(cluster.url);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Row count of every table (partitions included), by name. */
async function rowCounts(options: {
  databaseUrl?: string;
  dataDir?: string;
}): Promise<Record<string, number>> {
  const handle = await connectDatabase({
    databaseUrl: options.databaseUrl,
    dataDir: options.dataDir ?? 'unused',
    migrate: false,
  });
  try {
    const { rows } = await sql<{ name: string }>`
      SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname
    `.execute(handle.db);
    const counts: Record<string, number> = {};
    for (const { name } of rows) {
      const result = await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.table(name)}`.execute(
        handle.db,
      );
      counts[name] = Number(result.rows[0]?.n);
    }
    return counts;
  } finally {
    await handle.close();
  }
}

async function stats(env: Record<string, string>): Promise<unknown> {
  const result = await runCli(['stats', '--week', WEEK, '--json'], env);
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout);
}

describe('recap backup and recap restore', () => {
  it('an embedded demo backed up through `recap serve` restores into a new PostgreSQL database with the same rows and stats, and back into a new embedded folder', async () => {
    const source = embedded('source');
    // The demo takes about a minute here, several under load: not the two minutes runCli allows by default.
    const demo = await runCli(['demo', '--week', WEEK], source, undefined, 480_000);
    expect(demo.stderr).toBe('');
    expect(demo.code).toBe(0);
    const demoStats = await stats(source);

    // The server holds the folder: the backup goes through it, and the server carries on afterwards:
    // a write right after it must not land in pg_dump's read-only transaction on the one PGlite session.
    serve = await startServe(source);
    const first = await runCli(['backup', path.join(work, 'first.sql')], source);
    expect(first.stderr).toBe('');
    const client = await connectDatabase({
      dataDir: source.RECAP_DATA_DIR,
      databaseUrl: undefined,
      migrate: false,
    });
    try {
      // A lone statement, no BEGIN or COMMIT of its own: it runs in whatever transaction the session is in.
      await client.db
        .updateTable('subscribers')
        .set({ name: 'x' })
        .where('email', '=', 'nobody@example.test')
        .execute();
    } finally {
      await client.close();
    }
    const csv = path.join(work, 'after-backup.csv');
    writeFileSync(csv, 'email,name,segments\nafter-backup@example.test,After Backup,researchers\n');
    const imported = await runCli(['import', 'subscribers', csv], source);
    expect(imported.stderr).toBe('');
    expect(imported.stdout).toMatch(/1 new/);
    expect((await fetch(`${serve.url}/healthz`)).status).toBe(200);

    const file = path.join(work, 'embedded.sql');
    const backup = await runCli(['backup', file], source);
    expect(backup.stderr).toBe('');
    expect(backup.stdout).toMatch(/^backed up the embedded database in .* to .*embedded\.sql \(\d/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^--\n-- PostgreSQL database dump/);
    expect(await stats(source)).toEqual(demoStats);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    serve = undefined;
    const sourceStats = await stats(source);
    const sourceCounts = await rowCounts({ dataDir: source.RECAP_DATA_DIR });
    expect(sourceCounts.subscribers).toBe(221);
    expect(sourceCounts.deliveries).toBe(220);

    // Into a new PostgreSQL database.
    const server = { RECAP_SECRET: SECRET, DATABASE_URL: await newDatabase('restored_from_embedded') };
    const restore = await runCli(['restore', file], server);
    expect(restore.stderr).toBe('');
    expect(restore.stdout).toMatch(/^restored .*embedded\.sql into DATABASE_URL /);
    expect(await rowCounts({ databaseUrl: server.DATABASE_URL })).toEqual(sourceCounts);
    expect(await stats(server)).toEqual(sourceStats);

    // A second restore into the same (now full) database is refused with one line.
    const again = await runCli(['restore', file], server);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /^recap: DATABASE_URL .* is not empty \(\d+ tables, views or sequences\): restore into a new, empty database\n$/,
    );
    expect(await rowCounts({ databaseUrl: server.DATABASE_URL })).toEqual(sourceCounts);

    // Backed up from PostgreSQL (the machine's pg_dump), restored into a new embedded folder.
    const serverFile = path.join(work, 'server.sql');
    const serverBackup = await runCli(['backup', serverFile], server);
    expect(serverBackup.stderr).toBe('');
    expect(serverBackup.stdout).toMatch(/^backed up DATABASE_URL .* to /);
    // An existing file is not replaced without --force.
    const over = await runCli(['backup', serverFile], server);
    expect(over.stderr).toBe(`recap: ${serverFile} exists (use --force to replace it)\n`);
    const target = embedded('target');
    const back = await runCli(['restore', serverFile], target);
    expect(back.stderr).toBe('');
    expect(await rowCounts({ dataDir: target.RECAP_DATA_DIR })).toEqual(sourceCounts);
    expect(await stats(target)).toEqual(sourceStats);
  }, 600_000);

  it('refuses a file that is not a dump, and a folder without a database, with one line each', async () => {
    const notDump = path.join(work, 'not-a-dump.sql');
    writeFileSync(notDump, 'DROP TABLE subscribers;\n');
    const target = embedded('refused');
    const refused = await runCli(['restore', notDump], target);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      'recap: not a backup written by `recap backup` (a pg_dump plain-text dump)\n',
    );
    const nothing = await runCli(['backup', path.join(work, 'nothing.sql')], embedded('empty-folder'));
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(
      /^recap: no embedded database in .*empty-folder \(nothing to back up\)\n$/,
    );
  }, 120_000);
});
