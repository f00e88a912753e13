import type { Config } from '../config.ts';
import type { Db } from '../db/database.ts';
import type { Mailer } from '../delivery/mailer.ts';
import { redactUrl, UserError } from '../errors.ts';

/**
 * The composition root's parts, built once per command and only when first needed: the configuration
 * is read when a command opens the App, the database opened then, the mailer (nodemailer, DKIM key)
 * only when a command sends. Only src/cli/ knows this object; domain code takes the part it uses.
 */
export interface App {
  config: Config;
  db: Db;
  dbKind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

export interface OpenAppOptions {
  /** A long-running command: if it opens the embedded database, it serves it to other `recap` commands. */
  shareEmbedded?: boolean;
}

/**
 * Loads the configuration, opens the database (embedded when DATABASE_URL is unset: through the
 * process that holds its folder, if one does) and migrates it.
 */
export async function openApp(config?: Config, options: OpenAppOptions = {}): Promise<App> {
  const resolved = config ?? (await import('../config.ts')).loadConfig();
  const { connectDatabase } = await import('../db/connect.ts');
  const handle = await connectDatabase({
    databaseUrl: resolved.databaseUrl,
    dataDir: resolved.dataDir,
    shareEmbedded: options.shareEmbedded ?? false,
  }).catch((error) => {
    const where = resolved.databaseUrl
      ? `DATABASE_URL ${redactUrl(resolved.databaseUrl)}`
      : `the embedded database in ${resolved.dataDir}`;
    throw new UserError(`cannot open ${where}: ${error instanceof Error ? error.message : String(error)}`);
  });
  return { config: resolved, db: handle.db, dbKind: handle.kind, close: handle.close };
}

/** Runs a command body with an open App and always closes it. */
export async function withApp<T>(body: (app: App) => Promise<T>, options: OpenAppOptions = {}): Promise<T> {
  const app = await openApp(undefined, options);
  try {
    return await body(app);
  } finally {
    await app.close();
  }
}

/** Like withApp, for a long-running command: if it opens the embedded database, it serves it to other `recap` commands. */
export function withSharedApp<T>(body: (app: App) => Promise<T>): Promise<T> {
  return withApp(body, { shareEmbedded: true });
}

/** The configured mailer (SMTP pool or outbox folder), loaded on first use: listing commands never load nodemailer. */
export async function openMailer(config: Config): Promise<Mailer> {
  const { createMailer } = await import('../delivery/create-mailer.ts');
  return createMailer(config);
}
