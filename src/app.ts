import { type Config, ConfigError, loadConfig } from './config.ts';
import { connectDatabase } from './db/connect.ts';
import type { Db } from './db/database.ts';

/** An error caused by the user's input or environment: the CLI prints its message alone, no stack. */
export class UserError extends Error {
  override name = 'UserError';
}

/** The dependencies every command shares, built in one place. */
export interface App {
  config: Config;
  db: Db;
  dbKind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

/** Loads the configuration, opens the database (embedded when DATABASE_URL is unset) and migrates it. */
export async function openApp(config: Config = loadConfig()): Promise<App> {
  const handle = await connectDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }).catch(
    (error) => {
      const where = config.databaseUrl
        ? `DATABASE_URL ${redactUrl(config.databaseUrl)}`
        : `the embedded database in ${config.dataDir}`;
      throw new UserError(`cannot open ${where}: ${error instanceof Error ? error.message : String(error)}`);
    },
  );
  return { config, db: handle.db, dbKind: handle.kind, close: handle.close };
}

/** Runs a command body with an open App and always closes it. */
export async function withApp<T>(body: (app: App) => Promise<T>): Promise<T> {
  const app = await openApp();
  try {
    return await body(app);
  } finally {
    await app.close();
  }
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

export function isUserFacingError(error: unknown): error is Error {
  return error instanceof UserError || error instanceof ConfigError;
}
