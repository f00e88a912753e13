import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { UserError, withApp } from '../app.ts';
import { upsertSubscribers } from '../subscribers/subscriber.repository.ts';
import { parseSubscribersCsv } from '../subscribers/subscriber-import.ts';
import { writeErr, writeOut } from '../terminal-output.ts';
import { formatProblem, type ImportProblem, parseStories } from './parse-stories.ts';
import { listSegments, upsertStories } from './story.repository.ts';

async function readInput(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UserError(
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

/** Refuses the whole file on any problem unless --skip-invalid; then reports what was left out. */
function checkProblems(
  kind: string,
  file: string,
  problems: ImportProblem[],
  total: number,
  skipInvalid: boolean,
): void {
  if (problems.length === 0) return;
  const fileLevel = problems.some((p) => p.record === 0);
  const lines = problems.map(formatProblem).join('\n');
  if (!skipInvalid || fileLevel) {
    const records = new Set(problems.map((p) => p.record)).size;
    const what = fileLevel ? 'the file cannot be read' : `${records} of ${total} records are invalid`;
    throw new UserError(
      `${file}: nothing imported, ${what}:\n${lines}${fileLevel ? '' : `\n(use --skip-invalid to import the ${kind} that are valid)`}`,
    );
  }
  writeErr(`${file}: skipped ${new Set(problems.map((p) => p.record)).size} invalid records:\n${lines}\n`);
}

export function registerImportCommands(program: Command): void {
  const importCommand = program.command('import').description('import enriched stories or subscribers');
  const skipInvalid = new Option('--skip-invalid', 'import the valid records and report the invalid ones');

  importCommand
    .command('stories')
    .description(
      'import enriched stories from a JSON array or NDJSON file (see docs/story.schema.json); re-importing an id updates it',
    )
    .argument('<file>', 'stories file')
    .addOption(skipInvalid)
    .action((file: string, options: { skipInvalid?: boolean }) =>
      withApp(async (app) => {
        const { stories, problems, total } = parseStories(await readInput(file));
        checkProblems('stories', file, problems, total, options.skipInvalid === true);
        await app.db.transaction().execute((trx) => upsertStories(trx, stories));
        writeOut(`imported ${stories.length} ${stories.length === 1 ? 'story' : 'stories'} from ${file}\n`);
      }),
    );

  importCommand
    .command('subscribers')
    .description(
      'import subscribers from CSV (email,name,segments[,timezone][,tracking yes/no]; segments separated by ";"); idempotent by address',
    )
    .argument('<file>', 'CSV file')
    .addOption(skipInvalid)
    .action((file: string, options: { skipInvalid?: boolean }) =>
      withApp(async (app) => {
        const segments = await listSegments(app.db);
        const { subscribers, problems, total } = parseSubscribersCsv(await readInput(file), segments);
        checkProblems('subscribers', file, problems, total, options.skipInvalid === true);
        const result = await app.db
          .transaction()
          .execute((trx) =>
            upsertSubscribers(trx, subscribers, file, { trackingDefault: app.config.trackingDefault }),
          );
        for (const email of result.refused) {
          writeErr(
            `recap: ${file}: ${email} was erased at the person's request (recap subscriber erase): not imported\n`,
          );
        }
        const imported = subscribers.length - result.refused.length;
        writeOut(
          `imported ${imported} subscribers from ${file} (${result.created} new, ${result.updated} updated${result.refused.length > 0 ? `, ${result.refused.length} refused` : ''})\n`,
        );
      }),
    );
}
