import type { Config } from '../config.ts';
import { describeDatabaseError, isDatabaseUnavailable } from '../db/connection-errors.ts';
import type { Db } from '../db/database.ts';
import { ConfigError, redactUrl, UserError } from '../errors.ts';
import type { MailerSettings } from '../mail/create-mailer.ts';
import { lazyMailer } from '../mail/lazy-mailer.ts';
import type { Mailer } from '../mail/mailer.ts';

/**
 * The composition root's parts, built once per command and only when first needed: the configuration
 * is read when a command opens the App, the database opened then, the mailer (nodemailer, DKIM key)
 * only when a command sends. Only src/cli/ knows this object; domain code takes the part it uses.
 */
export interface App {
  config: Config;
  db: Db;
  dbKind: 'postgres' | 'pglite';
  /**
   * The one mailer of the process (SMTP pool or outbox folder), handed to everything that sends. Built
   * on its first message, so commands that never send never load nodemailer; closed with the App.
   */
  mailer: Mailer;
  /**
   * The mailer of sign-up confirmations, welcome and goodbye, re-engagement, alerts and test sends:
   * SYSTEM_SMTP_URL, else the bulk relays through a pool of its own, so none waits behind a weekly send.
   */
  systemMailer: Mailer;
  /** Builds both mailers now: a command that will send fails at its start on a bad DKIM key, not mid-send. */
  openMailer(): Promise<Mailer>;
  /** Closes the mailers (those built), then the database. */
  close(): Promise<void>;
}

export interface OpenAppOptions {
  /** Already loaded (e.g. with `recap serve --port`); default: loadConfig() from the environment. */
  config?: Config;
  /**
   * The command mails links (send, worker, schedule, demo, serve, sunset): in production it stops with
   * one line, before opening anything, while PUBLIC_URL is unset.
   */
  mailsLinks?: boolean;
  /** The command serves the editor (serve, demo --serve): in production it stops with one line without EDITOR_TOKEN. */
  servesEditor?: boolean;
  /** A long-running command: if it opens the embedded database, it serves it to other `recap` commands. */
  shareEmbedded?: boolean;
}

/** Loads the configuration, opens the database (embedded when DATABASE_URL is unset) and migrates it. */
export async function openApp(options: OpenAppOptions = {}): Promise<App> {
  const { loadConfig, missingEditorToken, missingPublicUrl } = await import('../config.ts');
  const resolved = options.config ?? loadConfig();
  const refusal =
    (options.mailsLinks ? missingPublicUrl(resolved) : null) ??
    (options.servesEditor ? missingEditorToken(resolved) : null);
  if (refusal) throw new ConfigError(refusal);
  const { connectDatabase } = await import('../db/connect.ts');
  const handle = await connectDatabase({
    databaseUrl: resolved.databaseUrl,
    dataDir: resolved.dataDir,
    shareEmbedded: options.shareEmbedded ?? false,
  }).catch((error) => {
    const where = resolved.databaseUrl
      ? `DATABASE_URL ${redactUrl(resolved.databaseUrl)}`
      : `the embedded database in ${resolved.dataDir}`;
    if (isDatabaseUnavailable(error))
      throw new UserError(
        `cannot open ${where}: the database does not answer (${describeDatabaseError(rootCause(error))}); start PostgreSQL or check the address`,
      );
    throw new UserError(`cannot open ${where}: ${error instanceof Error ? error.message : String(error)}`);
  });
  return assembleApp(resolved, handle.db, handle.kind, handle.close);
}

/** An App over an open database, with its lazily built mailer (tests assemble theirs the same way). */
export function assembleApp(
  config: Config,
  db: Db,
  dbKind: App['dbKind'],
  closeDb: () => Promise<void>,
): App {
  const mailer = mailerFor(config, 'bulk');
  const systemMailer = mailerFor(config, 'system');
  return {
    config,
    db,
    dbKind,
    mailer,
    systemMailer,
    openMailer: async () => {
      await systemMailer.open();
      return mailer.open();
    },
    async close() {
      await mailer.close();
      await systemMailer.close();
      await closeDb();
    },
  };
}

/** Runs a command body with an open App and always closes it. */
export async function withApp<T>(body: (app: App) => Promise<T>, options: OpenAppOptions = {}): Promise<T> {
  const app = await openApp(options);
  try {
    return await body(app);
  } finally {
    await app.close();
  }
}

/** Like withApp, for a long-running command: if it opens the embedded database, it serves it to other `recap` commands. */
export function withSharedApp<T>(body: (app: App) => Promise<T>, options: OpenAppOptions = {}): Promise<T> {
  return withApp(body, { ...options, shareEmbedded: true });
}

/** The configured mailer (SMTP pool or outbox folder), loaded on first use: listing commands never load nodemailer. */
function mailerFor(config: MailerSettings, kind: 'bulk' | 'system') {
  return lazyMailer(async () => {
    const { createMailer, createSystemMailer } = await import('../mail/create-mailer.ts');
    const log = (line: string) => process.stderr.write(`${line}\n`);
    return kind === 'bulk' ? createMailer(config, { log }) : createSystemMailer(config, { log });
  });
}

/** The innermost `cause` of an error: the driver's own words under our wrappers. */
function rootCause(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 4; depth += 1) {
    const cause = (current as { cause?: unknown } | null)?.cause;
    if (cause === undefined || cause === null) break;
    current = cause;
  }
  return current;
}
