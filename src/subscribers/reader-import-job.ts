import { Readable } from 'node:stream';
import type { Db } from '../db/database.ts';
import { formatProblem } from '../stories/parse-stories.ts';
import { listSegments } from '../stories/story.repository.ts';
import { finishReaderImport, updateReaderImport } from './reader-import.repository.ts';
import { importSubscriberList } from './subscriber-list-import.ts';

/** Problems kept in a job's report; the rest are counted. */
const PROBLEMS_KEPT = 200;
/** Progress is written at most this often (ms): a row update per CSV row would cost more than the row. */
const PROGRESS_EVERY_MS = 300;

/** What an import's result page shows. */
export interface ReaderImportReport {
  /** One line: what happened. */
  summary: string;
  /** Line-numbered problems, as `recap import subscribers` prints them. */
  problems: string[];
  /** Problems beyond those listed. */
  moreProblems: number;
  /** Addresses erased on request, refused. */
  refused: string[];
}

/**
 * Runs an uploaded CSV through the CLI's import rules (importSubscriberList), writing progress to the
 * job row as bytes and rows are read, then the report. Never throws: a failure ends the job 'failed'
 * with its message (nothing is half-written: the write is one transaction).
 */
export async function runReaderImport(
  db: Db,
  jobId: string,
  file: Buffer,
  options: { fileName: string; skipInvalid: boolean; trackingDefault: boolean },
): Promise<void> {
  let bytesRead = 0;
  let rowsRead = 0;
  let lastWrite = 0;
  let pending: Promise<void> = Promise.resolve();
  const progress = () => {
    if (Date.now() - lastWrite < PROGRESS_EVERY_MS) return;
    lastWrite = Date.now();
    pending = pending.then(() => updateReaderImport(db, jobId, { bytesRead, rowsRead })).catch(() => {});
  };
  // 64 KiB at a time: the bar moves with the bytes parsed.
  const chunks = function* () {
    for (let at = 0; at < file.length; at += 64 * 1024) {
      const chunk = file.subarray(at, at + 64 * 1024);
      bytesRead = at + chunk.length;
      progress();
      yield chunk;
    }
  };
  try {
    const segments = await listSegments(db);
    const result = await importSubscriberList(db, Readable.from(chunks()), segments, {
      source: `editor upload ${options.fileName}`,
      skipInvalid: options.skipInvalid,
      trackingDefault: options.trackingDefault,
      onRecord: (total) => {
        rowsRead = total;
        progress();
      },
      beforeWrite: async () => {
        await pending;
        await updateReaderImport(db, jobId, { status: 'writing', bytesRead: file.length, rowsRead });
      },
    });
    await pending;
    const problems = result.problems.slice(0, PROBLEMS_KEPT).map(formatProblem);
    const moreProblems = result.problems.length - problems.length;
    if (result.outcome === 'refused') {
      const what =
        result.reason === 'unreadable'
          ? 'the file cannot be read'
          : `${result.invalidRecords} of ${result.total} records are invalid (tick "skip invalid rows" to import the valid ones)`;
      const report: ReaderImportReport = {
        summary: `Nothing imported: ${what}.`,
        problems,
        moreProblems,
        refused: [],
      };
      await finishReaderImport(db, jobId, 'refused', report);
      return;
    }
    const counts = [
      `${result.created} new`,
      `${result.updated} updated`,
      `${result.unchanged} unchanged`,
      result.refused.length > 0 ? `${result.refused.length} refused (erased on request)` : '',
      result.invalidRecords > 0
        ? `${result.invalidRecords} invalid ${result.invalidRecords === 1 ? 'row' : 'rows'} skipped`
        : '',
    ].filter(Boolean);
    const summary = `Imported ${result.imported} ${result.imported === 1 ? 'reader' : 'readers'} (${counts.join(', ')}).`;
    await finishReaderImport(db, jobId, 'done', { summary, problems, moreProblems, refused: result.refused });
  } catch (error) {
    await pending;
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    const report: ReaderImportReport = {
      summary: `The import failed: ${reason}`,
      problems: [],
      moreProblems: 0,
      refused: [],
    };
    await finishReaderImport(db, jobId, 'failed', report).catch(() => {});
  }
}
