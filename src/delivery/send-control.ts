import { sql } from 'kysely';
import type { Db, IssueStatus } from '../db/database.ts';

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
 * The one place a send becomes 'sent': marks the issue sent if nothing is queued any more. Any worker
 * may call it; the first one wins and gets true (hook "send finished" notifications here).
 */
export async function markSendFinished(db: Db, issueId: number): Promise<boolean> {
  const result = await sql`
    UPDATE issues SET status = 'sent', send_finished_at = now(), status_reason = NULL
    WHERE id = ${issueId} AND status = 'sending'
      AND NOT EXISTS (SELECT 1 FROM deliveries WHERE issue_id = ${issueId} AND status = 'queued')
  `.execute(db);
  return Number(result.numAffectedRows ?? 0) > 0;
}

/**
 * The one place a send pauses itself (too many failures, a fatal SMTP answer, the deliverability guard):
 * records the reason shown by `recap send status` and the editor. Returns true only for the call that
 * paused it (hook "send paused itself" notifications here).
 */
export async function markSendPaused(db: Db, issueId: number, reason: string): Promise<boolean> {
  return pauseSend(db, issueId, reason);
}

/** Pauses a send that is running; workers stop before their next claim. Returns false if it was not sending. */
export async function pauseSend(db: Db, issueId: number, reason: string): Promise<boolean> {
  const result = await db
    .updateTable('issues')
    .set({ status: 'paused', status_reason: reason.slice(0, 1000) })
    .where('id', '=', issueId)
    .where('status', '=', 'sending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Lets workers continue a paused send. Returns false if it was not paused. */
export async function resumeSend(db: Db, issueId: number): Promise<boolean> {
  const result = await db
    .updateTable('issues')
    // The deliverability guard judges afresh from here: what paused the send is not held against it again.
    .set({ status: 'sending', status_reason: null, guard_since: sql`now()` })
    .where('id', '=', issueId)
    .where('status', '=', 'paused')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Cancels a sending or paused send: every queued delivery becomes 'cancelled' in one statement.
 * Messages already handed to SMTP finish and are recorded as sent. Returns the number cancelled, or
 * null if the issue was not sending or paused.
 */
export async function cancelSend(db: Db, issueId: number, reason: string): Promise<number | null> {
  return db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable('issues')
      .set({ status: 'cancelled', status_reason: reason, send_finished_at: sql`now()` })
      .where('id', '=', issueId)
      .where('status', 'in', ['sending', 'paused'])
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) return null;
    const result = await trx
      .updateTable('deliveries')
      .set({ status: 'cancelled' })
      .where('issue_id', '=', issueId)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  });
}
