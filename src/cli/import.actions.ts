// The bodies of the import commands, loaded only when one of them runs (import.commands.ts defines them).
import { open, readFile } from 'node:fs/promises';
import { alertSourceFailing } from '../alerts/source-alert.ts';
import { UserError } from '../errors.ts';
import { recordIngestRun, runOfOutcome } from '../stories/ingest.repository.ts';
import { formatProblem, type ImportProblem } from '../stories/parse-stories.ts';
import { listSegments } from '../stories/story.repository.ts';
import { formatCounts, type ImportOutcome, importStories } from '../stories/story-import.ts';
import { formatPull, pullAll, pullSettingsFrom, pullSource } from '../stories/story-pull.ts';
import { InputTooLargeError, readStoryRecords } from '../stories/story-stream.ts';
import { upsertSubscribers } from '../subscribers/subscriber.repository.ts';
import { parseSubscribersCsv } from '../subscribers/subscriber-import.ts';
import { writeErr, writeOut } from '../terminal-output.ts';
import type { App } from './app.ts';

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

/** The pull settings of the configuration (RECAP_STORIES_AUTH, INGEST_*). */
export function pullSettings(app: App) {
  const { ingest } = app.config;
  return {
    auth: ingest.auth,
    timeoutMs: ingest.timeoutMs,
    retries: ingest.retries,
    maxBytes: ingest.maxBytes,
  };
}

/** `recap import stories URL`: one unconditional pull, all or nothing unless --skip-invalid. */
async function importUrl(app: App, url: string, skipInvalid: boolean): Promise<void> {
  const result = await pullSource(app.db, url, {
    ...pullSettingsFrom(app.config.ingest),
    conditional: false,
    skipInvalid,
    waitForLock: true,
  });
  if (result.status === 'failed') throw new UserError(`${url}: ${result.summary}`);
  if (!result.outcome) throw new UserError(`${url}: ${result.summary}`);
  reportOutcome(url, result.outcome, skipInvalid);
}

/** Prints an import's line, or refuses it with a line per problem (as the file import always has). */
function reportOutcome(source: string, outcome: ImportOutcome, skipInvalid: boolean): void {
  const lines = outcome.problems.map(formatProblem).join('\n');
  const more = outcome.problemCount - outcome.problems.length;
  const list = `${lines}${more > 0 ? `\n… and ${more} more problems` : ''}`;
  if (!outcome.stored) {
    const what = outcome.unreadable
      ? 'the file cannot be read'
      : `${outcome.invalid} of ${outcome.total} records are invalid`;
    throw new UserError(
      `${source}: nothing imported, ${what}:\n${list}${outcome.unreadable ? '' : '\n(use --skip-invalid to import the stories that are valid)'}`,
    );
  }
  if (outcome.problemCount > 0 && skipInvalid) {
    writeErr(`${source}: skipped ${outcome.invalid} invalid records:\n${list}\n`);
  }
  const n = outcome.imported + outcome.updated + outcome.unchanged;
  writeOut(`imported ${n} ${n === 1 ? 'story' : 'stories'} from ${source} (${formatCounts(outcome)})\n`);
}

/** `recap import stories FILE|URL`: streamed, all or nothing unless --skip-invalid; the run is recorded. */
export async function importStoriesAction(
  app: App,
  file: string,
  options: { skipInvalid?: boolean },
): Promise<void> {
  const skip = options.skipInvalid === true;
  if (/^https?:\/\//i.test(file)) return importUrl(app, file, skip);
  const startedAt = new Date();
  const handle = await open(file, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new UserError(`cannot read ${file}: ${error.code ?? error.message}`);
  });
  let bytes = 0;
  let outcome: ImportOutcome;
  try {
    outcome = await importStories(
      app.db,
      readStoryRecords(handle.createReadStream({ highWaterMark: 256 * 1024 }), {
        maxBytes: Number.MAX_SAFE_INTEGER,
        onBytes: (n) => {
          bytes = n;
        },
      }),
      { skipInvalid: skip },
    );
  } catch (error) {
    if (error instanceof InputTooLargeError) throw new UserError(`${file}: ${error.message}`);
    if ((error as NodeJS.ErrnoException).code === 'EISDIR')
      throw new UserError(`cannot read ${file}: EISDIR`);
    throw error;
  } finally {
    await handle.close().catch(() => {});
  }
  await recordIngestRun(
    app.db,
    runOfOutcome(outcome, { kind: 'file', source: file, startedAt, finishedAt: new Date(), bytes }),
  );
  reportOutcome(file, outcome, skip);
}

/** `recap ingest`: one pull of every RECAP_STORIES_URL; a failing source alerts and exits 1. */
export async function ingestAction(app: App): Promise<void> {
  const { urls } = app.config.ingest;
  if (urls.length === 0)
    throw new UserError('RECAP_STORIES_URL is not set: nothing to pull (comma-separated http(s) URLs)');
  const results = await pullAll(app.db, urls, pullSettingsFrom(app.config.ingest));
  for (const result of results) {
    const line = `${formatPull(result)}\n`;
    if (result.status === 'failed' || result.status === 'refused') {
      writeErr(line);
      await alertSourceFailing(
        { db: app.db, config: app.config, mailer: app.mailer },
        { source: result.url, error: result.summary },
      ).catch(() => {});
    } else writeOut(line);
  }
  if (results.some((r) => r.status === 'failed' || r.status === 'refused')) process.exitCode = 1;
}

/** `recap import subscribers FILE`: CSV, all or nothing unless --skip-invalid; erased addresses are refused. */
export async function importSubscribersAction(
  app: App,
  file: string,
  options: { skipInvalid?: boolean },
): Promise<void> {
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
}
