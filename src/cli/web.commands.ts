import type { Command } from 'commander';
import { type App, openApp } from './app.ts';

/** `recap serve`: the subscriber-facing HTTP server (PORT, HOST) and, with BOUNCE_SMTP_PORT, the bounce listener. */
export function registerWebCommands(program: Command): void {
  program
    .command('serve')
    .description('serve tracking, unsubscribe, preferences, sign-up, archive and editor pages (PORT, HOST)')
    .option('--port <port>', 'port to listen on (default PORT or 3000)')
    .option('--host <host>', 'address to bind (default HOST or 127.0.0.1)')
    .action(async (options: { port?: string; host?: string }) => {
      const app = await openApp(undefined, { shareEmbedded: true });
      const { startServer } = await import('../web/server.ts');
      const port = options.port === undefined ? undefined : Number(options.port);
      const server = await startServer(app, {
        ...(port === undefined || Number.isNaN(port) ? {} : { port }),
        ...(options.host ? { host: options.host } : {}),
        logger: true,
      });
      const bounces =
        app.config.bounceSmtpPort === undefined
          ? undefined
          : await (await import('../delivery/bounces/bounce-listener.ts')).startBounceListener(app, {
              port: app.config.bounceSmtpPort,
            });
      // On the embedded database the quick start runs no `recap schedule` beside the server: the server
      // pulls the story feeds itself (a pull twice over imports nothing twice).
      const pulls =
        app.dbKind === 'pglite' && app.config.ingest.urls.length > 0
          ? await startEmbeddedPulls(app)
          : undefined;
      process.stdout.write(`recap: serving on ${server.url}\n`);
      if (bounces)
        process.stdout.write(`recap: bounce listener on ${app.config.bounceSmtpHost} port ${bounces.port}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      // Graceful stop: finish requests in flight and write every queued open and click before exiting.
      await pulls?.stop();
      await server.close();
      await bounces?.close();
      await app.close();
    });
}

async function startEmbeddedPulls(app: App) {
  const { createStoryPuller, startStoryPulls } = await import('../schedule/story-pulls.ts');
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ingest: ${line}\n`);
  return startStoryPulls({
    expression: app.config.ingest.cron,
    timeZone: app.config.timeZone,
    puller: createStoryPuller(app, log),
    log,
  });
}
