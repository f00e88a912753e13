import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { connectDatabase, embeddedOptions, wrapPglite } from '../../src/db/connect.ts';
import type { Db } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';

/** The PostgreSQL server tests use when set (CI sets it); without it each test file gets an embedded PGlite. */
export const testDatabaseUrl = process.env.TEST_DATABASE_URL || undefined;

export interface TestDatabase {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** A URL another process (the CLI as a child) can use, or undefined for PGlite (in-process only). */
  url: string | undefined;
  close(): Promise<void>;
}

let pgliteTemplate: Promise<import('@electric-sql/pglite').PGlite> | undefined;

/**
 * A fresh, migrated database for one test file: a new database on the server, or a clone of a
 * migrated in-memory PGlite (cloning costs ~0.3 s where a new instance costs ~2 s).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (testDatabaseUrl) return createServerDatabase(testDatabaseUrl);
  pgliteTemplate ??= (async () => {
    const { PGlite } = await import('@electric-sql/pglite');
    const template = await PGlite.create('memory://', { extensions: (await embeddedOptions()).extensions });
    const handle = await wrapPglite(template);
    await migrateToLatest(handle.db);
    return template;
  })();
  const clone = (await (await pgliteTemplate).clone()) as import('@electric-sql/pglite').PGlite;
  const handle = await wrapPglite(clone);
  return { db: handle.db, kind: 'pglite', url: undefined, close: handle.close };
}

async function createServerDatabase(baseUrl: string): Promise<TestDatabase> {
  const name = `recap_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const handle = await connectDatabase({ databaseUrl: url.toString(), dataDir: 'unused' });
  return {
    db: handle.db,
    kind: 'postgres',
    url: url.toString(),
    close: async () => {
      await handle.close();
      const cleanup = new pg.Client({ connectionString: baseUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}

/** A Kysely instance on a raw pg pool, for tests that need a second, independent connection. */
export function secondConnection(url: string): Db {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // Dropping the test database terminates its sessions; a client still closing then reports 57P01,
  // which must not surface as an unhandled 'error' event after the test has finished.
  pool.on('error', () => {});
  return new Kysely({ dialect: new PostgresDialect({ pool }) });
}
