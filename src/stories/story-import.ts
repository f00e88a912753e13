import type { Db, Tx } from '../db/database.ts';
import { withdrawFromUnsentIssues } from '../issues/issue-snapshot.ts';
import { checkRecord, type ImportProblem } from './parse-stories.ts';
import { retractStories, upsertStories } from './story.repository.ts';
import type { Story } from './story.ts';
import type { RawRecord } from './story-stream.ts';

/** Problems kept for the report; the rest are only counted. */
export const PROBLEM_LIMIT = 100;
/**
 * Invalid records after which an all-or-nothing import stops reading: it is refused already, and a body
 * of millions of tiny invalid records would otherwise cost minutes of CPU before its answer.
 */
export const INVALID_RECORD_LIMIT = 1000;
const BATCH = 500;

/** What an import did (or, refused, would have had to refuse). */
export interface ImportOutcome {
  imported: number;
  updated: number;
  unchanged: number;
  retracted: number;
  /** Records read, valid or not. */
  total: number;
  /** Records refused. */
  invalid: number;
  /** The first PROBLEM_LIMIT problems, in input order. */
  problems: ImportProblem[];
  /** Every problem, including those not kept. */
  problemCount: number;
  /** The input as a whole could not be read (record 0): nothing is stored even with skipInvalid. */
  unreadable: boolean;
  /** False when nothing was stored because of invalid records. */
  stored: boolean;
  /** True when reading stopped at INVALID_RECORD_LIMIT invalid records (all or nothing only): the rest was not checked. */
  stoppedEarly?: boolean;
}

export interface ImportOptions {
  /** Store the valid records and report the others; default all or nothing. */
  skipInvalid: boolean;
  now?: Date;
}

class Refused extends Error {
  constructor(readonly outcome: ImportOutcome) {
    super('import refused');
  }
}

/**
 * Validates records as they are read and writes them in batches of 500 inside the caller's transaction,
 * so memory does not grow with the input. Retractions withdraw stories from every issue not yet sent.
 * Throws ImportRefusedError (with the outcome) when a record is invalid and `skipInvalid` is off, or the
 * input is unreadable: the caller's transaction must then roll back. With `skipInvalid` off, reading
 * stops at INVALID_RECORD_LIMIT invalid records (`stoppedEarly`). Errors of the input stream (too
 * large, connection lost) propagate as they are.
 */
// Long: one pass that checks, batches and counts; its state (batches, problems, ids seen) is shared.
export async function importStoryRecords(
  trx: Tx,
  records: AsyncIterable<RawRecord | ImportProblem>,
  options: ImportOptions,
): Promise<ImportOutcome> {
  const outcome: ImportOutcome = {
    imported: 0,
    updated: 0,
    unchanged: 0,
    retracted: 0,
    total: 0,
    invalid: 0,
    problems: [],
    problemCount: 0,
    unreadable: false,
    stored: true,
  };
  const now = options.now ?? new Date();
  const seen = new Map<string, number>();
  let stories: Story[] = [];
  let retractions: string[] = [];
  const flush = async () => {
    if (stories.length > 0) {
      const counts = await upsertStories(trx, stories);
      outcome.imported += counts.imported;
      outcome.updated += counts.updated;
      outcome.unchanged += counts.unchanged;
      stories = [];
    }
    if (retractions.length > 0) {
      const retracted = await retractStories(trx, retractions, now);
      await withdrawFromUnsentIssues(trx, retracted);
      outcome.retracted += retracted.length;
      outcome.unchanged += retractions.length - retracted.length;
      retractions = [];
    }
  };
  let lastInvalid = -1;
  const problem = (found: ImportProblem) => {
    outcome.problemCount += 1;
    if (outcome.problems.length < PROBLEM_LIMIT) outcome.problems.push(found);
    if (found.record === 0) outcome.unreadable = true;
    else if (found.record !== lastInvalid) {
      outcome.invalid += 1;
      lastInvalid = found.record;
    }
  };
  const overLimit = () => !options.skipInvalid && outcome.invalid >= INVALID_RECORD_LIMIT;
  for await (const entry of records) {
    if (!('value' in entry)) {
      if (entry.record > 0) outcome.total += 1;
      problem(entry);
      if (overLimit()) break;
      continue;
    }
    outcome.total += 1;
    const checked = checkRecord(entry.record, entry.value, seen, entry.line);
    if (Array.isArray(checked)) {
      for (const found of checked) problem(found);
      if (overLimit()) break;
      continue;
    }
    // Nothing is written once the import is bound to be refused: the rest is only checked.
    if (outcome.problemCount > 0 && !options.skipInvalid) continue;
    if (checked.kind === 'story') stories.push(checked.story);
    else retractions.push(checked.id);
    if (stories.length >= BATCH || retractions.length >= BATCH) await flush();
  }
  if (outcome.unreadable || (outcome.problemCount > 0 && !options.skipInvalid)) {
    throw new ImportRefusedError({
      ...outcome,
      ...(overLimit() ? { stoppedEarly: true } : {}),
      imported: 0,
      updated: 0,
      unchanged: 0,
      retracted: 0,
      stored: false,
    });
  }
  await flush();
  return outcome;
}

/** The import was refused; nothing of it may be kept. */
export class ImportRefusedError extends Refused {
  override name = 'ImportRefusedError';
}

/** Runs importStoryRecords in its own transaction; a refused import is returned, not thrown. */
export async function importStories(
  db: Db,
  records: AsyncIterable<RawRecord | ImportProblem>,
  options: ImportOptions,
): Promise<ImportOutcome> {
  try {
    return await db.transaction().execute((trx) => importStoryRecords(trx, records, options));
  } catch (error) {
    if (error instanceof ImportRefusedError) return error.outcome;
    throw error;
  }
}

/** "12 new, 3 updated, 40 unchanged, 1 retracted" (parts that are zero left out, "nothing" when all are). */
export function formatCounts(
  outcome: Pick<ImportOutcome, 'imported' | 'updated' | 'unchanged' | 'retracted'>,
): string {
  const parts = [
    outcome.imported > 0 ? `${outcome.imported} new` : '',
    outcome.updated > 0 ? `${outcome.updated} updated` : '',
    outcome.unchanged > 0 ? `${outcome.unchanged} unchanged` : '',
    outcome.retracted > 0 ? `${outcome.retracted} retracted` : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'no stories';
}
