import type { Readable } from 'node:stream';
import type { Db } from '../db/database.ts';
import type { ImportProblem } from '../stories/parse-stories.ts';
import type { Segment } from '../stories/segment.ts';
import { upsertSubscribers } from './subscriber.repository.ts';
import { readSubscribersCsv } from './subscriber-import.ts';

export interface SubscriberListOptions {
  /** Where the list came from (a file name), kept in each new reader's consent record. */
  source: string;
  /** Import the valid rows and report the others (else one invalid row refuses the whole file). */
  skipInvalid: boolean;
  trackingDefault: boolean;
  /** Called as rows are read (a count), for a progress bar. */
  onRecord?: (total: number) => void;
  /** Called once the file is read and accepted, before the one write transaction starts. */
  beforeWrite?: (rows: number) => Promise<void>;
}

/** What a list import did: refused as a whole (nothing written), or imported (with any rows skipped). */
export type SubscriberListImport =
  | {
      outcome: 'refused';
      /** 'unreadable': the file as a whole (empty, not CSV, no email column); 'invalid': some rows. */
      reason: 'unreadable' | 'invalid';
      problems: ImportProblem[];
      total: number;
      invalidRecords: number;
    }
  | {
      outcome: 'imported';
      /** The invalid rows left out (only with skipInvalid). */
      problems: ImportProblem[];
      total: number;
      invalidRecords: number;
      imported: number;
      created: number;
      updated: number;
      unchanged: number;
      /** Addresses erased on request: never added again. */
      refused: string[];
    };

/**
 * The rules of `recap import subscribers` and the editor's import, in one place: the CSV is read as a
 * stream and checked row by row (line-numbered problems); a file-level problem refuses it, so does any
 * invalid row unless `skipInvalid`; the accepted rows go in one transaction (all or nothing). Re-imports
 * never resubscribe anyone who left; erased addresses are refused.
 */
export async function importSubscriberList(
  db: Db,
  input: Readable,
  segments: readonly Segment[],
  options: SubscriberListOptions,
): Promise<SubscriberListImport> {
  const { subscribers, problems, total } = await readSubscribersCsv(input, segments, {
    ...(options.onRecord ? { onRecord: options.onRecord } : {}),
  });
  const invalidRecords = new Set(problems.filter((p) => p.record > 0).map((p) => p.record)).size;
  const fileLevel = problems.some((p) => p.record === 0);
  if (fileLevel || (problems.length > 0 && !options.skipInvalid))
    return {
      outcome: 'refused',
      reason: fileLevel ? 'unreadable' : 'invalid',
      problems,
      total,
      invalidRecords,
    };
  await options.beforeWrite?.(subscribers.length);
  const result = await db
    .transaction()
    .execute((trx) =>
      upsertSubscribers(trx, subscribers, options.source, { trackingDefault: options.trackingDefault }),
    );
  return {
    outcome: 'imported',
    problems,
    total,
    invalidRecords,
    imported: subscribers.length - result.refused.length,
    ...result,
  };
}
