import { existsSync } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../config.ts';
import { redactUrl, UserError } from '../errors.ts';
import { writeOut } from '../terminal-output.ts';

/** `recap backup FILE`, `recap restore FILE`: plain SQL dumps, from and into either kind of database. */
export function registerBackupCommands(program: Command): void {
  program
    .command('backup')
    .description('write a consistent SQL dump of the database (embedded or DATABASE_URL) to FILE')
    .argument('<file>', 'where to write the dump (readable by its owner only)')
    .option('--force', 'replace FILE if it exists')
    .action(async (file: string, options: { force?: boolean }) => {
      const { loadConfig } = await import('../config.ts');
      const config = loadConfig();
      if (existsSync(file) && !options.force)
        throw new UserError(`${file} exists (use --force to replace it)`);
      // Written beside FILE and renamed: a failed or interrupted backup never leaves a truncated FILE.
      const partial = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.partial`);
      try {
        if (config.databaseUrl) {
          const { dumpPostgres } = await import('../db/sql-dump.ts');
          await writeFile(partial, '', { mode: 0o600 });
          await dumpPostgres(config.databaseUrl, partial);
        } else {
          const { dumpEmbeddedDatabase } = await import('../db/connect.ts');
          await writeFile(partial, await dumpEmbeddedDatabase(config.dataDir), { mode: 0o600 });
        }
        await rename(partial, file);
      } finally {
        await rm(partial, { force: true });
      }
      const { size } = await stat(file);
      writeOut(`backed up ${databaseName(config)} to ${file} (${formatBytes(size)})\n`);
    });

  program
    .command('restore')
    .description('load a dump written by `recap backup` into an EMPTY database (embedded or DATABASE_URL)')
    .argument('<file>', 'a dump written by `recap backup`')
    .action(async (file: string) => {
      const { loadConfig } = await import('../config.ts');
      const config = loadConfig();
      const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new UserError(
          `cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`,
        );
      });
      const { loadDump, portableDump } = await import('../db/sql-dump.ts');
      const sql = portableDump(text);
      const { connectDatabase } = await import('../db/connect.ts');
      const where = databaseName(config);
      const connect = (migrate: boolean) =>
        connectDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, migrate });
      // Not migrated first: an empty database must stay empty until the dump is in.
      const target = await connect(false);
      try {
        await loadDump(target.db, sql, where);
      } finally {
        await target.close();
      }
      // A dump from an older version gains this version's migrations now, like any command would.
      await (await connect(true)).close();
      writeOut(`restored ${file} into ${where}\n`);
    });
}

function databaseName(config: Pick<Config, 'databaseUrl' | 'dataDir'>): string {
  return config.databaseUrl
    ? `DATABASE_URL ${redactUrl(config.databaseUrl)}`
    : `the embedded database in ${config.dataDir}`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
