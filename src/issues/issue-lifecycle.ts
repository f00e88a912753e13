import { sql } from 'kysely';
import type { AudienceCounts, Db, Tx } from '../db/database.ts';
import { retryTransaction } from '../db/retry-transaction.ts';
import { getIssue, IssueStateError, type IssueSummary } from './issue.repository.ts';
import { freezeIssueContent } from './issue-content.repository.ts';

/*
 * The issue's lifecycle, and the only writer of `issues.status` and of the timestamps that go with it
 * (approved_at, send_started_at, send_finished_at):
 *
 *   draft ──approve──▶ approved ──send starts──▶ sending ──last delivery──▶ sent
 *     ▲                   │                      │   ▲
 *     └─────unapprove─────┘                pause │   │ resume
 *                                                ▼   │
 *                                               paused ──▶ cancelled (also from sending)
 *
 * A draft may be sent as it is when REQUIRE_APPROVAL is off. The CLI, the editor and the schedule call
 * these functions; a refused transition throws IssueStateError (a UserError: one line, no stack).
 */

export interface ApproveOptions {
  now?: Date;
  /** RECAP_TZ: when given, the content is frozen into its snapshot at approval (else when the send starts). */
  timeZone?: string;
  /** Approve although some segments have no stories after fallback (`--allow-empty`, the editor's checkbox). */
  allowEmpty?: boolean;
  /** Why empty segments were accepted; kept as the issue's status reason. */
  reason?: string;
}

/** Names of the segments that have no story in an issue (after fallback), in segment order. */
export async function emptySegmentsOf(db: Db | Tx, issueId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('segments')
    .select('name')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('issue_items')
            .select('issue_items.story_id')
            .whereRef('issue_items.segment_id', '=', 'segments.id')
            .where('issue_items.issue_id', '=', issueId),
        ),
      ),
    )
    .orderBy('id')
    .execute();
  return rows.map((row) => row.name);
}

function listNames(names: readonly string[]): string {
  return names.map((name) => `"${name}"`).join(', ');
}

/**
 * Approves a built draft: its selection is frozen from then on (rebuilds return it unchanged, overrides
 * are refused) and its content is snapshotted when `timeZone` is given (else when its send starts).
 * A segment without stories blocks approval unless `allowEmpty`; an issue without any story is never
 * approved. Idempotent: an issue already past approval is returned as it is. Throws IssueStateError when
 * the week has no built issue, it was cancelled, or segments are empty.
 */
export async function approveIssue(
  db: Db,
  week: string,
  options: ApproveOptions = {},
): Promise<IssueSummary> {
  await retryTransaction(() =>
    db.transaction().execute(async (trx) => {
      const issue = await trx
        .selectFrom('issues')
        .select(['id', 'status', 'built_at'])
        .where('week', '=', week)
        .forUpdate()
        .executeTakeFirst();
      if (!issue || issue.built_at === null)
        throw new IssueStateError(
          `issue ${week} has not been built yet; run: recap issue build --week ${week}`,
        );
      if (issue.status === 'cancelled') throw new IssueStateError(`issue ${week} was cancelled`);
      if (issue.status !== 'draft') return;
      const empty = await emptySegmentsOf(trx, issue.id);
      const { count } = await trx
        .selectFrom('segments')
        .select(sql<number>`count(*)::int`.as('count'))
        .executeTakeFirstOrThrow();
      if (empty.length >= Number(count))
        throw new IssueStateError(
          `issue ${week} has no stories in any segment: nothing to approve (import stories for ${week}, then: recap issue build --week ${week})`,
        );
      if (empty.length > 0 && !options.allowEmpty)
        throw new IssueStateError(
          `issue ${week} not approved: ${listNames(empty)} ${empty.length === 1 ? 'has' : 'have'} no stories; import stories and rebuild, or approve with empty segments allowed (recap issue approve --allow-empty)`,
        );
      const reason = options.reason?.trim();
      await trx
        .updateTable('issues')
        .set({
          status: 'approved',
          approved_at: options.now ?? new Date(),
          status_reason:
            empty.length > 0
              ? `approved with empty segments (${empty.join(', ')})${reason ? `: ${reason}` : ''}`.slice(
                  0,
                  1000,
                )
              : null,
        })
        .where('id', '=', issue.id)
        .execute();
    }),
  );
  const issue = (await getIssue(db, week)) as IssueSummary;
  if (options.timeZone !== undefined) await freezeIssueContent(db, week, options.timeZone);
  return issue;
}

/**
 * Returns an approved issue to draft (its snapshot dropped, so a rebuild sees the stories imported since),
 * until its send starts. Throws IssueStateError for a missing issue, a draft, or a send that started.
 */
export async function unapproveIssue(db: Db, week: string): Promise<IssueSummary> {
  const result = await db
    .updateTable('issues')
    .set({ status: 'draft', approved_at: null, status_reason: null, content_snapshot: null })
    .where('week', '=', week)
    .where('status', 'in', ['approved', 'scheduled'])
    .executeTakeFirst();
  const issue = await getIssue(db, week);
  if (Number(result.numUpdatedRows) > 0 && issue) return issue;
  if (!issue) throw new IssueStateError(`no issue for ${week}`);
  if (issue.status === 'draft') throw new IssueStateError(`issue ${week} is already a draft`);
  throw new IssueStateError(
    `issue ${week} is ${issue.status}: its send has started, so it can no longer return to draft`,
  );
}

/** Marks an issue 'sending' with its frozen audience. Must run in the transaction that froze the audience. */
export async function markSending(trx: Tx, issueId: number, counts: AudienceCounts): Promise<void> {
  await trx
    .updateTable('issues')
    .set({
      status: 'sending',
      status_reason: null,
      send_started_at: sql`now()`,
      guard_since: sql`now()`,
      audience_counts: JSON.stringify(counts),
    })
    .where('id', '=', issueId)
    .execute();
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
 * Marks a sending or paused send cancelled; returns false if it was neither. Must run in the transaction
 * that cancels its queued deliveries.
 */
export async function markCancelled(trx: Tx, issueId: number, reason: string): Promise<boolean> {
  const updated = await trx
    .updateTable('issues')
    .set({ status: 'cancelled', status_reason: reason, send_finished_at: sql`now()` })
    .where('id', '=', issueId)
    .where('status', 'in', ['sending', 'paused'])
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0;
}
