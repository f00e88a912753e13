import type { Db, OverrideChannel, Tx } from '../db/database.ts';
import { lockDraftForChange } from './issue.repository.ts';
import { type IssueWriting, NO_WRITING } from './issue-writing.ts';

/** The editor's note, subject and preheader of a week (none written: all null). Never throws for a missing row. */
export async function loadIssueWriting(db: Db | Tx, week: string): Promise<IssueWriting> {
  const row = await db
    .selectFrom('issue_writing')
    .select(['note', 'subject', 'preheader'])
    .where('week', '=', week)
    .executeTakeFirst();
  return row ? { note: row.note, subject: row.subject, preheader: row.preheader } : { ...NO_WRITING };
}

/** The parts to change (a part left out keeps its stored value). */
export type WritingChange = Partial<IssueWriting>;

/**
 * Stores a change of a week's note, or of its subject and preheader (values already checked by
 * checkNote / checkHeaderLine). Only while the issue is a draft or not built yet: the writing is part
 * of the snapshot an approval freezes, so an approved issue must go back to draft first. Locks the
 * issue row, so an approval racing this change sees it whole or not at all. Throws IssueStateError.
 */
export async function saveIssueWriting(
  db: Db,
  week: string,
  change: WritingChange,
  updatedBy: OverrideChannel,
): Promise<IssueWriting> {
  return db.transaction().execute(async (trx) => {
    const what =
      'note' in change && 'subject' in change
        ? 'note and subject are'
        : 'note' in change
          ? 'note is'
          : 'subject and preheader are';
    await lockDraftForChange(trx, week, what);
    await trx
      .insertInto('issue_writing')
      .values({ week, ...change, updated_by: updatedBy, updated_at: new Date() })
      .onConflict((oc) =>
        oc.column('week').doUpdateSet({ ...change, updated_by: updatedBy, updated_at: new Date() }),
      )
      .execute();
    return loadIssueWriting(trx, week);
  });
}
