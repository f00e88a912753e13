import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './database.ts';
import { migrateToLatest } from './migrate.ts';

// bigint (int8) and count(*) come back as strings by default; ids stay strings, counts are parsed where read.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (value) => Number(value));

export interface DatabaseHandle {
  db: Kysely<Database>;
  /** 'postgres' for a server from DATABASE_URL, 'pglite' for the embedded database. */
  kind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

export interface ConnectOptions {
  databaseUrl: string | undefined;
  /** Folder of the embedded database; 'memory://' keeps it in memory. */
  dataDir: string;
  poolSize?: number;
  migrate?: boolean;
  /**
   * Long-running commands (serve, schedule, a following worker, demo --serve): when this process opens
   * the embedded folder, it serves it to other `recap` processes over its Unix socket. Short commands
   * leave it false: they go through a holder, or hold the folder alone and answer "busy" while they run.
   */
  shareEmbedded?: boolean;
  /** Names this process in another command's "busy" message; defaults to `recap <command>`. */
  command?: string;
}

/**
 * Opens Kysely over `pg` when a URL is given, else over the embedded PGlite folder: opened by this
 * process, or reached through the process that holds it (see embedded-folder.ts); every way runs
 * the same dialect and the same queries. Applies pending migrations unless told not to (through a
 * holder they are no-ops: it migrated when it opened the folder, and transactions take turns).
 */
export async function connectDatabase(options: ConnectOptions): Promise<DatabaseHandle> {
  const handle = options.databaseUrl
    ? connectServer(options.databaseUrl, options.poolSize ?? 10)
    : await connectEmbedded(
        options.dataDir,
        options.shareEmbedded ?? false,
        options.command ?? `recap ${process.argv.slice(2, 3).join(' ')}`.trim(),
      );
  if (options.migrate !== false) {
    try {
      await migrateToLatest(handle.db);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }
  return handle;
}

function connectServer(url: string, max: number): DatabaseHandle {
  // keepAlive: a server that vanished without closing the connection (host down) is noticed.
  const pool = new pg.Pool({ connectionString: url, max, keepAlive: true });
  // A client that loses its server must not crash the process, idle (the pool's 'error') or checked
  // out (the client's own 'error', emitted besides failing the query in flight): the query, or the
  // next one, fails its operation and the pool replaces the broken client.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, kind: 'postgres', close: () => db.destroy() };
}

export { DatabaseHeldError } from './embedded-folder.ts';

async function connectEmbedded(dataDir: string, share: boolean, command: string): Promise<DatabaseHandle> {
  const { PGlite } = await import('@electric-sql/pglite');
  const location = dataDir === 'memory://' ? dataDir : path.join(dataDir, 'pglite');
  const options = await embeddedOptions();
  if (location === 'memory://') return wrapPglite(await PGlite.create(location, options));
  const { openEmbeddedFolder } = await import('./embedded-folder.ts');
  const folder = await openEmbeddedFolder({
    dataDir,
    share,
    command,
    openPglite: async () => {
      mkdirSync(location, { recursive: true });
      return PGlite.create(location, options);
    },
    directPool: pgliteDirectPool,
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: folder.pool }) });
  return {
    db,
    kind: 'pglite',
    close: async () => {
      await db.destroy().catch(() => {});
      await folder.close();
    },
  };
}

/**
 * How every embedded database is opened (the folder, memory, the tests' template): the extensions the
 * migrations create (pg_trgm for the readers' search) must be loaded by the instance itself.
 */
export async function embeddedOptions() {
  const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm');
  // PostgreSQL's default 128 MB of shared buffers is allocated in the WebAssembly memory up front:
  // 32 MB keeps a command on the embedded database near 260 MB of RSS instead of 370 MB; the files
  // stay in the operating system's page cache, so a small list or the demo reads no slower.
  return { postgresqlconf: 'shared_buffers=32MB', extensions: { pg_trgm } };
}

/** A pool of one connection straight into PGlite, for a process that serves no other. */
async function pgliteDirectPool(pglite: import('@electric-sql/pglite').PGlite): Promise<pg.Pool> {
  const { createPgConfig } = await import('@electric-sql/pglite/node-postgres');
  return new pg.Pool({ ...createPgConfig(pglite), max: 1 } as pg.PoolConfig);
}

/** Wraps an already open PGlite (tests clone one per file) in the same Kysely dialect as production. */
export async function wrapPglite(pglite: import('@electric-sql/pglite').PGlite): Promise<DatabaseHandle> {
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: await pgliteDirectPool(pglite) }) });
  return {
    db,
    kind: 'pglite',
    close: async () => {
      await db.destroy();
      await pglite.close();
    },
  };
}
