import { type Command, Option } from 'commander';
import { withApp } from './app.ts';

export function registerImportCommands(program: Command): void {
  const importCommand = program.command('import').description('import enriched stories or subscribers');
  const skipInvalid = new Option('--skip-invalid', 'import the valid records and report the invalid ones');

  importCommand
    .command('stories')
    .description(
      'import enriched stories from a JSON array or NDJSON file or http(s) URL (see docs/story.schema.json); re-importing an id updates it',
    )
    .argument('<file>', 'stories file, or an http(s) URL')
    .addOption(skipInvalid)
    .action((file: string, options: { skipInvalid?: boolean }) =>
      withApp(async (app) => (await import('./import.actions.ts')).importStoriesAction(app, file, options)),
    );

  program
    .command('ingest')
    .description(
      'pull every RECAP_STORIES_URL once (conditional requests: an unchanged feed is not read again) and print a line per URL',
    )
    .action(() => withApp(async (app) => (await import('./import.actions.ts')).ingestAction(app)));

  importCommand
    .command('subscribers')
    .description(
      'import subscribers from CSV (email,name,segments[,timezone][,tracking yes/no]; segments separated by ";"); idempotent by address',
    )
    .argument('<file>', 'CSV file')
    .addOption(skipInvalid)
    .action((file: string, options: { skipInvalid?: boolean }) =>
      withApp(async (app) =>
        (await import('./import.actions.ts')).importSubscribersAction(app, file, options),
      ),
    );
}
