import type { Db, IssueStatus } from '../db/database.ts';
import { retryTransaction } from '../db/retry-transaction.ts';
import { markCancelled } from '../issues/issue-lifecycle.ts';

// The issue's state changes live in src/issues/issue-lifecycle.ts; the send's callers find them here too.
export { markSendFinished, markSendPaused, pauseSend, resumeSend } from '../issues/issue-lifecycle.ts';

export interface SendingIssue {
  id: number;
  week: string;
  status: IssueStatus;
  statusReason: string | null;
  sendStartedAt: Date | null;
}

export async function loadSendingIssue(
  db: Db,
  where: { id: number } | { week: string },
): Promise<SendingIssue | null> {
  let query = db.selectFrom('issues').select(['id', 'week', 'status', 'status_reason', 'send_started_at']);
  query = 'id' in where ? query.where('id', '=', where.id) : query.where('week', '=', where.week);
  const row = await query.executeTakeFirst();
  return row
    ? {
        id: row.id,
        week: row.week,
        status: row.status,
        statusReason: row.status_reason,
        sendStartedAt: row.send_started_at,
      }
    : null;
}

/** The issue a worker without `--week` should work on: the oldest one being sent. */
export async function oldestSendingIssue(db: Db): Promise<SendingIssue | null> {
  const row = await db
    .selectFrom('issues')
    .select('id')
    .where('status', '=', 'sending')
    .orderBy('send_started_at')
    .orderBy('id')
    .executeTakeFirst();
  return row ? loadSendingIssue(db, { id: row.id }) : null;
}

/**
 * Cancels a sending or paused send: every queued delivery becomes 'cancelled' in one statement.
 * Messages already handed to SMTP finish and are recorded as sent. Returns the number cancelled, or
 * null if the issue was not sending or paused.
 */
export async function cancelSend(db: Db, issueId: number, reason: string): Promise<number | null> {
  return retryTransaction(() =>
    db.transaction().execute(async (trx) => {
      if (!(await markCancelled(trx, issueId, reason))) return null;
      const result = await trx
        .updateTable('deliveries')
        .set({ status: 'cancelled' })
        .where('issue_id', '=', issueId)
        .where('status', '=', 'queued')
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    }),
  );
}
