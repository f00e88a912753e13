import type { Command } from 'commander';
import { openApp } from './app.ts';
import { resolveWeek } from './week-option.ts';

interface DemoOptions {
  week?: string;
  serve?: boolean;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      "seed demo stories and subscribers, build, approve and send this week's issue to the outbox (idempotent)",
    )
    .option('--week <week>', 'ISO week to build (default: the current week in RECAP_TZ)')
    .option('--serve', 'then serve the editor preview until Ctrl-C')
    .action(async (options: DemoOptions) => {
      const app = await openApp(undefined, { shareEmbedded: Boolean(options.serve) });
      let closing = false;
      try {
        const now = new Date();
        const week = resolveWeek(options.week, app.config.timeZone, now).key;
        const { runDemo } = await import('./run-demo.ts');
        process.stdout.write(`${await runDemo(app, { week, now })}\n`);
        if (!options.serve) return;
        const { startServer } = await import('../web/server.ts');
        const server = await startServer(app);
        // 127.0.0.1 is where the server listens; localhost is what people type.
        const url = server.url.replace('://127.0.0.1', '://localhost');
        process.stdout.write(`  preview     ${url}  (Ctrl-C to stop)\n`);
        await new Promise<void>((resolve) => {
          const stop = () => {
            if (closing) return;
            closing = true;
            server.close().then(resolve, resolve);
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      } finally {
        await app.close();
      }
    });
}
