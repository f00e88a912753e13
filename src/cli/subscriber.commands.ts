import type { Command } from 'commander';
import { writeOut } from '../terminal-output.ts';
import { withApp } from './app.ts';

/** `recap subscribers invalid`: stored addresses the strict parser refuses (never mailed). */
export function registerSubscriberCommands(program: Command): void {
  const subscribers = program.command('subscribers').description('inspect the subscriber list');
  subscribers
    .command('invalid')
    .description(
      'list stored addresses the strict address parser refuses: they are left out of every send until fixed or removed',
    )
    .option('--json', 'print them as JSON')
    .action((options: { json?: boolean }) =>
      withApp(async (app) => {
        const { listInvalidAddresses } = await import('../subscribers/address-check.ts');
        const invalid = await listInvalidAddresses(app.db);
        if (options.json) {
          writeOut(`${JSON.stringify(invalid, null, 2)}\n`);
          return;
        }
        if (invalid.length === 0) {
          writeOut('every stored address is valid\n');
          return;
        }
        writeOut(`${invalid.length} stored addresses are invalid and are not mailed:\n`);
        for (const row of invalid) writeOut(`${row.id}\t${row.status}\t${row.email}\t${row.reason}\n`);
        writeOut(
          "fix each with: UPDATE subscribers SET email = '…' WHERE id = …; or delete it (it is rechecked at the next send)\n",
        );
      }),
    );
}
