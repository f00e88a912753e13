import { sql } from 'kysely';
import type { Db, ReaderImportStatus } from '../db/database.ts';

/** An editor's CSV import as its progress page shows it. */
export interface ReaderImportJob {
  id: string;
  fileName: string;
  status: ReaderImportStatus;
  skipInvalid: boolean;
  bytesTotal: number;
  bytesRead: number;
  rowsRead: number;
  /** The outcome (see reader-import-job.ts), once the import is over. */
  report: unknown;
  startedAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

/** Starts a job row for an uploaded file; returns its id. */
export async function createReaderImport(
  db: Db,
  job: { fileName: string; bytesTotal: number; skipInvalid: boolean },
): Promise<string> {
  const row = await db
    .insertInto('reader_imports')
    .values({ file_name: job.fileName, bytes_total: job.bytesTotal, skip_invalid: job.skipInvalid })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Records how far the import has read, or that it now writes. */
export async function updateReaderImport(
  db: Db,
  id: string,
  progress: { status?: 'reading' | 'writing'; bytesRead?: number; rowsRead?: number },
): Promise<void> {
  await db
    .updateTable('reader_imports')
    .set({
      ...(progress.status ? { status: progress.status } : {}),
      ...(progress.bytesRead !== undefined ? { bytes_read: progress.bytesRead } : {}),
      ...(progress.rowsRead !== undefined ? { rows_read: progress.rowsRead } : {}),
      updated_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .where('finished_at', 'is', null)
    .execute();
}

/** Ends the job with its outcome and report. */
export async function finishReaderImport(
  db: Db,
  id: string,
  status: 'done' | 'refused' | 'failed',
  report: unknown,
): Promise<void> {
  await db
    .updateTable('reader_imports')
    .set({
      status,
      report: JSON.stringify(report),
      bytes_read: sql`bytes_total`,
      updated_at: sql<Date>`now()`,
      finished_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .execute();
}

export async function findReaderImport(db: Db, id: string): Promise<ReaderImportJob | null> {
  if (!/^\d{1,18}$/.test(id)) return null;
  const row = await db.selectFrom('reader_imports').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return null;
  return {
    id: row.id,
    fileName: row.file_name,
    status: row.status,
    skipInvalid: row.skip_invalid,
    bytesTotal: Number(row.bytes_total),
    bytesRead: Number(row.bytes_read),
    rowsRead: row.rows_read,
    report: row.report,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}
