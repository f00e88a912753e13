import { spawn } from 'node:child_process';
import type { PGlite } from '@electric-sql/pglite';
import { sql } from 'kysely';
import { UserError } from '../errors.ts';
import type { Db } from './database.ts';

/**
 * Plain SQL dumps of the whole database, written by pg_dump on both kinds: Debian's `pg_dump` against a
 * server, PGlite's own pg_dump (compiled to WebAssembly, `@electric-sql/pglite-tools`) against the
 * embedded database. Both write `INSERT`s (no `COPY … FROM stdin`), without owners or privileges, so
 * one restore path loads either into either kind of database through an ordinary connection.
 */

/** Options every dump is written with: statements any PostgreSQL (or PGlite) runs, as any user. */
const DUMP_OPTIONS = ['--no-owner', '--no-privileges', '--rows-per-insert=500'];

/**
 * Dumps an open PGlite. pg_dump runs in PGlite's one session and leaves it as a separate server would
 * never see it: inside its read-only repeatable-read transaction (pg_dump ends by disconnecting, which
 * ends nothing here), with its session settings (search_path '', extra_float_digits…) and, from
 * pglite-tools, DEALLOCATE ALL. All of it is undone after it, so the session's other users carry on as
 * before. The caller must hold the database alone meanwhile (the holder's turn), which is also what
 * makes the dump consistent.
 */
export async function dumpPglite(pglite: PGlite): Promise<string> {
  const { pgDump } = await import('@electric-sql/pglite-tools/pg_dump');
  try {
    const file = await pgDump({ pg: pglite, args: DUMP_OPTIONS });
    return await file.text();
  } finally {
    // ROLLBACK outside a transaction is only a warning; RESET ALL then finds the session's defaults.
    await pglite.exec('ROLLBACK; RESET ALL; DEALLOCATE ALL;');
  }
}

/**
 * Runs the machine's `pg_dump` into `file` (a consistent snapshot: one repeatable-read transaction).
 * The password travels in the environment, not on the command line other users can read.
 */
export async function dumpPostgres(databaseUrl: string, file: string): Promise<void> {
  const url = new URL(databaseUrl);
  const password = decodeURIComponent(url.password);
  url.password = '';
  const env = { ...process.env, ...(password ? { PGPASSWORD: password } : {}) };
  const args = [...DUMP_OPTIONS, '--inserts', `--file=${file}`, `--dbname=${url.toString()}`];
  await new Promise<void>((resolve, reject) => {
    const child = spawn('pg_dump', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new UserError(
              "pg_dump was not found: install PostgreSQL's client tools, of the server's major version or newer (Debian: apt install postgresql-client)",
            )
          : error,
      ),
    );
    child.once('close', (code) => {
      if (code === 0) resolve();
      else {
        const reason = stderr.trim().split('\n').slice(0, 3).join('; ') || `exit code ${code}`;
        reject(new UserError(`pg_dump failed: ${reason.replace(/^pg_dump: (error: )?/gm, '')}`));
      }
    });
  });
}

/** The first line of every pg_dump plain-text dump. */
const DUMP_HEADER = /^(?:\uFEFF)?--\s*\n-- PostgreSQL database dump\b/;

/**
 * A dump as one connection runs it: psql's meta-commands (`\restrict`, written by pg_dump since 17.6
 * and 15.14) are not SQL and go; `SET transaction_timeout` (pg_dump 17+) goes too, since PostgreSQL
 * before 17 refuses it and its value 0 is the default anyway. Throws a UserError for a file that is not
 * a pg_dump plain-text dump.
 */
export function portableDump(text: string): string {
  if (!DUMP_HEADER.test(text))
    throw new UserError('not a backup written by `recap backup` (a pg_dump plain-text dump)');
  if (!/^-- PostgreSQL database dump complete/m.test(text))
    throw new UserError(
      'the backup is incomplete (it does not end with "PostgreSQL database dump complete")',
    );
  return text
    .replace(/^\\(?:un)?restrict\b.*\r?\n?/gm, '')
    .replace(/^SET transaction_timeout = .*\r?\n?/gm, '');
}

/** Tables, views and sequences outside PostgreSQL's own schemas: a database with none is empty. */
export async function countUserRelations(db: Db): Promise<number> {
  const { rows } = await sql<{ relations: string }>`
    SELECT count(*) AS relations FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
      AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  `.execute(db);
  return Number(rows[0]?.relations ?? 0);
}

/**
 * Loads a dump (already made portable) into an empty database in one implicit transaction (a simple
 * query of many statements): a statement that fails leaves the database as empty as it was.
 * Throws a UserError when the database is not empty.
 */
export async function loadDump(db: Db, text: string, where: string): Promise<void> {
  const relations = await countUserRelations(db);
  if (relations > 0)
    throw new UserError(
      `${where} is not empty (${relations} tables, views or sequences): restore into a new, empty database`,
    );
  // pg_dump's session settings (search_path '') must not outlive the restore on a shared session.
  await sql.raw(`${text}\nRESET ALL;\n`).execute(db);
}
