import type { Command } from 'commander';
import { openApp } from './app.ts';
import { editorLink, linksLine } from './server-address.ts';
import { describeWeek, resolveWeek, WEEK_OPTION_HELP } from './week-option.ts';

interface DemoOptions {
  week?: string;
  serve?: boolean;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      "seed demo stories and subscribers, build, approve and send the schedule's week's issue to the outbox (idempotent)",
    )
    .option('--week <YYYY-Www>', WEEK_OPTION_HELP)
    .option('--serve', 'then serve the editor preview until Ctrl-C')
    .action(async (options: DemoOptions) => {
      const app = await openApp({
        mailsLinks: true,
        servesEditor: Boolean(options.serve),
        shareEmbedded: Boolean(options.serve),
      });
      let closing = false;
      try {
        const now = new Date();
        const resolved = resolveWeek(options.week, app.config, now);
        const week = resolved.key;
        process.stdout.write(`${describeWeek(resolved)}\n`);
        const { runDemo } = await import('./run-demo.ts');
        process.stdout.write(`${await runDemo(app, { week, now })}\n`);
        if (!options.serve) return;
        const { startServer } = await import('../web/server.ts');
        const { createServiceLogger } = await import('./service-logger.ts');
        // The preview's log says only what went wrong (warnings and errors) below the demo's summary.
        const level = app.config.log.level === 'debug' ? 'debug' : 'warn';
        const server = await startServer(
          { ...app, mailer: app.systemMailer },
          { logger: createServiceLogger({ ...app.config.log, level }) },
        );
        // The link carries the editor's token for this start (none is printed for EDITOR_TOKEN).
        const tokenHint = server.editor.generated ? '' : ' (open it once with ?token=EDITOR_TOKEN)';
        process.stdout.write(`  preview     ${editorLink(server.editor)}${tokenHint}  (Ctrl-C to stop)\n`);
        process.stdout.write(`  links       ${linksLine(app.config, server.publicUrl)}\n`);
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
