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
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, kind: 'postgres', close: () => db.destroy() };
}

async function connectEmbedded(dataDir: string): Promise<DatabaseHandle> {
  const { PGlite } = await import('@electric-sql/pglite');
  const location = dataDir === 'memory://' ? dataDir : path.join(dataDir, 'pglite');
  if (location !== 'memory://') mkdirSync(location, { recursive: true });
  // PostgreSQL's default 128 MB of shared buffers is allocated in the WebAssembly memory up front:
  // 32 MB keeps a command on the embedded database near 200 MB of RSS instead of 370 MB; the files
  // stay in the operating system's page cache, so a small list or the demo reads no slower.
  const pglite = await PGlite.create(location, { postgresqlconf: 'shared_buffers=32MB' });
  return wrapPglite(pglite);
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
