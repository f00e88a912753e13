import type { Command } from 'commander';
import { UserError } from '../errors.ts';
import { isWildcardHost } from '../http-address.ts';
import { type App, openApp } from './app.ts';
import { type ProcessMetrics, startProcessMetrics } from './process-metrics.ts';
import { editorLine, editorLink, linksLine, parseListenFlags } from './server-address.ts';
import { createServiceLogger, type Logger } from './service-logger.ts';

/**
 * `recap serve`: the subscriber-facing HTTP server (PORT, HOST), with BOUNCE_SMTP_PORT the bounce listener
 * and with BOUNCE_IMAP_URL the bounce mailbox's poller.
 */
export function registerWebCommands(program: Command): void {
  program
    .command('serve')
    .description('serve tracking, unsubscribe, preferences, sign-up, archive and editor pages (PORT, HOST)')
    .option('--port <port>', 'port to listen on (default PORT or 3000)')
    .option('--host <host>', 'address to bind (default HOST or 127.0.0.1)')
    .action(async (options: { port?: string; host?: string }) => {
      // The flags replace PORT and HOST before the configuration derives anything from them, so the
      // address served and the links mailed (PUBLIC_URL unset) name the same port.
      const { loadConfig } = await import('../config.ts');
      const config = loadConfig(process.env, { listen: parseListenFlags(options) });
      const app = await openApp({ config, mailsLinks: true, servesEditor: true, shareEmbedded: true });
      // One JSON line per event (a human line on a terminal): the server's, the listener's, the pulls'.
      const logger = createServiceLogger(app.config.log);
      const { startServer } = await import('../web/server.ts');
      const mailer = await app.openMailer(); // a bad DKIM key stops the start, not a reader's sign-up
      const { createHttpsTextFetcher } = await import('./https-text-fetcher.ts');
      // The editor's Start and Resume: when no worker is alive, this server drains the send it started.
      const editorSender = await editorSenderOf(app, mailer, logger);
      // Sign-up, welcome, goodbye and test mails go through the system relay, never behind a weekly send.
      const server = await startServer(
        { ...app, mailer: app.systemMailer },
        { logger, fetchText: createHttpsTextFetcher(), editorSender },
      );
      let metrics: ProcessMetrics | undefined;
      let bounces: { port: number; close(): Promise<void> } | undefined;
      try {
        // Its own listener (METRICS_HOST, 127.0.0.1 by default), never the public port; only serve
        // exports the figures read from the database, so several processes never report them twice.
        metrics = await startProcessMetrics({ ...app.config.metrics, databaseFigures: app.db });
        metrics?.exportTracking(server.trackingStats);
        bounces = await startBounces(app, logger, metrics);
      } catch (error) {
        // A listener that could not start ends the start: close what is open, so the process exits
        // (and its service manager sees the failure) rather than serving pages half started.
        await metrics?.close();
        await server.close();
        await editorSender.close();
        await app.close();
        throw error;
      }
      const { startBounceMailbox } = await import('./bounce-mailbox.ts');
      const observed = metrics;
      const mailbox = await startBounceMailbox(
        app,
        logger,
        observed && ((outcomes) => observed.observeInbound(outcomes)),
      );
      // On the embedded database the quick start runs no `recap schedule` beside the server: the server
      // pulls the story feeds itself (a pull twice over imports nothing twice).
      const pulls =
        app.dbKind === 'pglite' && app.config.ingest.urls.length > 0
          ? await startEmbeddedPulls(app, logger, metrics)
          : undefined;
      const wildcard = isWildcardHost(app.config.http.host);
      logger.info(
        { url: server.url, boundTo: server.boundTo, publicUrl: server.publicUrl },
        `serving on ${server.url}${wildcard ? ` (bound to ${server.boundTo}: every interface)` : ''}`,
      );
      logger.info({ editorUrl: editorLink(server.editor) }, `editor at ${editorLine(server.editor)}`);
      logger.info(`links in mail start at ${linksLine(app.config, server.publicUrl)}`);
      if (metrics) logger.info({ metrics: metrics.boundTo }, `metrics on http://${metrics.boundTo}/metrics`);
      if (bounces)
        logger.info(
          { host: app.config.bounceSmtpHost, port: bounces.port },
          `bounce listener on ${app.config.bounceSmtpHost} port ${bounces.port}`,
        );
      await untilStopped();
      // Graceful stop: finish requests in flight and write every queued open and click before exiting.
      await pulls?.stop();
      await mailbox?.stop();
      await server.close();
      await editorSender.close();
      await bounces?.close();
      await metrics?.close();
      await app.close();
    });
}

/** The bounce listener on BOUNCE_SMTP_HOST:BOUNCE_SMTP_PORT, if configured; a taken port is one clear line. */
async function startBounces(app: App, logger: Logger, metrics: ProcessMetrics | undefined) {
  const port = app.config.bounceSmtpPort;
  if (port === undefined) return undefined;
  const { startBounceListener } = await import('../delivery/bounces/bounce-listener.ts');
  return startBounceListener(app, {
    port,
    log: (line) => logger.warn({ component: 'bounces' }, line),
    ...(metrics ? { onOutcome: (outcomes) => metrics.observeInbound(outcomes) } : {}),
  }).catch((error: NodeJS.ErrnoException) => {
    throw new UserError(
      `cannot listen for bounces on ${app.config.bounceSmtpHost}:${port} (BOUNCE_SMTP_HOST, BOUNCE_SMTP_PORT): ${
        error.code === 'EADDRINUSE'
          ? 'the port is in use (another recap serve on this machine? only one of them needs BOUNCE_SMTP_PORT)'
          : error.message
      }`,
    );
  });
}

async function startEmbeddedPulls(app: App, logger: Logger, metrics: ProcessMetrics | undefined) {
  const { createStoryPuller, startStoryPulls } = await import('../schedule/story-pulls.ts');
  const log = (line: string) => logger.info({ component: 'ingest' }, line);
  return startStoryPulls({
    expression: app.config.ingest.cron,
    timeZone: app.config.timeZone,
    puller: createStoryPuller(app, log, metrics && ((outcome) => metrics.observePull(outcome))),
    log,
  });
}

/** The editor's sender: bulk mail through the send's relay, its alerts through the system relay. */
async function editorSenderOf(app: App, mailer: Awaited<ReturnType<App['openMailer']>>, logger: Logger) {
  const { createEditorSender } = await import('../delivery/editor-send.ts');
  return createEditorSender({
    db: app.db,
    config: app.config,
    mailer,
    systemMailer: app.systemMailer,
    log: (line) => logger.warn({ component: 'editor-send' }, line),
  });
}

/** Resolves at SIGTERM or SIGINT (Ctrl-C). */
function untilStopped(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
}
