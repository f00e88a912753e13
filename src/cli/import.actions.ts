// The bodies of the import commands, loaded only when one of them runs (import.commands.ts defines them).
import { type FileHandle, open } from 'node:fs/promises';
import { alertSourceFailing } from '../alerts/source-alert.ts';
import { UserError } from '../errors.ts';
import { recordIngestRun, runOfOutcome } from '../stories/ingest.repository.ts';
import { formatProblem, type ImportProblem } from '../stories/parse-stories.ts';
import { listSegments } from '../stories/story.repository.ts';
import { formatCounts, type ImportOutcome, importStories } from '../stories/story-import.ts';
import { formatPull, pullAll, pullSettingsFrom, pullSource } from '../stories/story-pull.ts';
import { InputTooLargeError, readStoryRecords } from '../stories/story-stream.ts';
import { importSubscriberList } from '../subscribers/subscriber-list-import.ts';
import { writeErr, writeOut } from '../terminal-output.ts';
import type { App } from './app.ts';

/** Problems printed for one import; the rest are counted ("… and 12 more problems"). */
const PROBLEMS_SHOWN = 20;

function openInput(file: string): Promise<FileHandle> {
  return open(file, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new UserError(`cannot read ${file}: ${error.code ?? error.message}`);
  });
}

/** A read error of the input as one line (a directory opens, then fails to read with EISDIR). */
function readFailure(file: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  return code && /^E[A-Z]+$/.test(code) ? new UserError(`cannot read ${file}: ${code}`) : error;
}

/** The first PROBLEMS_SHOWN problems, one line each, then how many more there were. */
function problemLines(problems: readonly ImportProblem[], count = problems.length): string {
  const shown = problems.slice(0, PROBLEMS_SHOWN).map(formatProblem);
  const more = count - shown.length;
  return `${shown.join('\n')}${more > 0 ? `\n… and ${more} more ${more === 1 ? 'problem' : 'problems'}` : ''}`;
}

/** An input refused as a whole for one reason (empty, binary, not CSV) is one line. */
function refuseUnreadable(source: string, problems: readonly ImportProblem[]): void {
  const [only] = problems;
  if (problems.length === 1 && only?.record === 0)
    throw new UserError(`${source}: nothing imported, ${formatProblem(only)}`);
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
  refuseUnreadable(file, problems);
  const fileLevel = problems.some((p) => p.record === 0);
  const lines = problemLines(problems);
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
  const list = problemLines(outcome.problems, outcome.problemCount);
  if (!outcome.stored) {
    refuseUnreadable(source, outcome.problems);
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
  const handle = await openInput(file);
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
    throw readFailure(file, error);
  } finally {
    await handle.close().catch(() => {});
  }
  if (outcome.total === 0 && outcome.problemCount === 0)
    throw new UserError(
      `${file}: nothing imported, ${bytes === 0 ? 'the file is empty' : 'the file holds no stories'}`,
    );
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
        { db: app.db, config: app.config, mailer: app.systemMailer },
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
  const handle = await openInput(file);
  const skipInvalid = options.skipInvalid === true;
  // The editor's import runs the same function: the same rules and the same line-numbered problems.
  const report = await importSubscriberList(
    app.db,
    handle.createReadStream({ highWaterMark: 64 * 1024 }),
    segments,
    { source: file, skipInvalid, trackingDefault: app.config.trackingDefault },
  )
    .catch((error: unknown) => {
      throw readFailure(file, error);
    })
    .finally(() => handle.close().catch(() => {}));
  checkProblems('subscribers', file, report.problems, report.total, skipInvalid);
  if (report.outcome === 'refused') throw new UserError(`${file}: nothing imported`);
  for (const email of report.refused) {
    writeErr(
      `recap: ${file}: ${email} was erased at the person's request (recap subscriber erase): not imported\n`,
    );
  }
  const counts = [
    report.created > 0 ? `${report.created} new` : '',
    report.updated > 0 ? `${report.updated} updated` : '',
    report.unchanged > 0 ? `${report.unchanged} unchanged` : '',
    report.refused.length > 0 ? `${report.refused.length} refused` : '',
  ].filter(Boolean);
  writeOut(
    `imported ${report.imported} ${report.imported === 1 ? 'subscriber' : 'subscribers'} from ${file} (${counts.join(', ') || 'nothing'})\n`,
  );
}
