import { Command } from 'commander';
import { withApp } from './app.ts';

export function migrateCommand(): Command {
  return new Command('migrate')
    .description('apply pending database migrations (every command also does this)')
    .action(() =>
      withApp(async (app) => {
        process.stdout.write(`database (${app.dbKind}) is at the latest schema\n`);
      }),
    );
}
