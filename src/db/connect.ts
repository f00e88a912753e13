import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
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
}

/**
 * Opens Kysely over `pg` when a URL is given, else over an embedded PGlite through its node-postgres
 * adapter, so both run the same dialect and the same queries. Applies pending migrations unless told not to.
 */
export async function connectDatabase(options: ConnectOptions): Promise<DatabaseHandle> {
  const handle = options.databaseUrl
    ? connectServer(options.databaseUrl, options.poolSize ?? 10)
    : await connectEmbedded(options.dataDir);
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
  const pool = new pg.Pool({ connectionString: url, max });
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  // A client in use that loses its server emits 'error' too (besides failing its query): without a
  // listener that event would end the process instead of the query.
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, kind: 'postgres', close: () => db.destroy() };
}

/** The embedded database's folder is open in another live process: PGlite allows one process only. */
export class DatabaseHeldError extends Error {
  override name = 'DatabaseHeldError';
}

async function connectEmbedded(dataDir: string): Promise<DatabaseHandle> {
  const { PGlite } = await import('@electric-sql/pglite');
  const location = dataDir === 'memory://' ? dataDir : path.join(dataDir, 'pglite');
  // PostgreSQL's default 128 MB of shared buffers is allocated in the WebAssembly memory up front:
  // 32 MB keeps a command on the embedded database near 260 MB of RSS instead of 370 MB; the files
  // stay in the operating system's page cache, so a small list or the demo reads no slower.
  const options = { postgresqlconf: 'shared_buffers=32MB' };
  if (location === 'memory://') return wrapPglite(await PGlite.create(location, options));
  mkdirSync(location, { recursive: true });
  const release = holdDataDir(dataDir);
  try {
    const handle = await wrapPglite(await PGlite.create(location, options));
    return {
      ...handle,
      close: async () => {
        try {
          await handle.close();
        } finally {
          release();
        }
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}

/**
 * Claims the embedded database's folder for this process with a lock file naming its pid: a second
 * process would corrupt it (PGlite has no locking of its own). A lock left by a dead process is taken
 * over. Throws DatabaseHeldError naming the live holder.
 */
function holdDataDir(dataDir: string): () => void {
  const file = path.join(dataDir, 'recap.lock');
  const mine = `${process.pid} ${process.argv.slice(2, 3).join(' ') || 'node'}\n`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, mine);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(file, 'utf8') === mine) unlinkSync(file);
        } catch {
          // Already gone.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder = '';
    try {
      holder = readFileSync(file, 'utf8').trim();
    } catch {
      continue;
    }
    const pid = Number(holder.split(' ')[0]);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      const command = holder.split(' ').slice(1).join(' ');
      throw new DatabaseHeldError(
        `the embedded database is held by another process (pid ${pid}${command ? `, recap ${command}` : ''}); only one process can open ${dataDir} at a time: stop it, or set DATABASE_URL to share a PostgreSQL server`,
      );
    }
    // The holder is gone: its lock is stale.
    try {
      unlinkSync(file);
    } catch {}
  }
  throw new DatabaseHeldError(`cannot lock the embedded database in ${dataDir}`);
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Wraps an already open PGlite (tests clone one per file) in the same Kysely dialect as production. */
export async function wrapPglite(pglite: import('@electric-sql/pglite').PGlite): Promise<DatabaseHandle> {
  const { createPgConfig } = await import('@electric-sql/pglite/node-postgres');
  const pool = new pg.Pool({ ...createPgConfig(pglite), max: 1 } as pg.PoolConfig);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    kind: 'pglite',
    close: async () => {
      await db.destroy();
      await pglite.close();
    },
  };
}
