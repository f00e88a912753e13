import { sql } from 'kysely';
import type { AudienceCounts, Db, IssueRow, IssueStatus, Tx } from '../db/database.ts';
import { UserError } from '../errors.ts';

/**
 * Thrown when an issue is not in the state an operation needs (e.g. overriding an approved issue): a
 * UserError, so the CLI prints its one line; the editor shows it on the page.
 */
export class IssueStateError extends UserError {
  override name = 'IssueStateError';
}

/**
 * Locks an issue's row for a change to what its approval freezes (writing, subject variants), and
 * throws IssueStateError unless the issue is a draft or not built yet. `what` names the frozen part
 * in the message ("subject variants are"). Must run in the transaction that makes the change.
 */
export async function lockDraftForChange(trx: Tx, week: string, what: string): Promise<void> {
  const issue = await trx
    .selectFrom('issues')
    .select('status')
    .where('week', '=', week)
    .forUpdate()
    .executeTakeFirst();
  if (!issue || issue.status === 'draft') return;
  throw new IssueStateError(
    issue.status === 'approved' || issue.status === 'scheduled'
      ? `issue ${week} is approved: its ${what} frozen with it; return it to draft first (Back to draft in the editor, or: recap issue unapprove --week ${week})`
      : `issue ${week} is ${issue.status}: its ${what.replace(/ (is|are)$/, '')} can no longer change`,
  );
}

export interface IssueSummary {
  id: number;
  week: string;
  status: IssueStatus;
  createdAt: Date;
  builtAt: Date | null;
  approvedAt: Date | null;
  /** Stories across all segments (a story in two segments counts twice). */
  itemCount: number;
  /** Segments with at least one story. */
  segmentCount: number;
  overrideCount: number;
}

function summaryQuery(db: Db | Tx) {
  return db
    .selectFrom('issues')
    .select((eb) => [
      'issues.id',
      'issues.week',
      'issues.status',
      'issues.created_at',
      'issues.built_at',
      'issues.approved_at',
      eb
        .selectFrom('issue_items')
        .select(sql<number>`count(*)::int`.as('n'))
        .whereRef('issue_items.issue_id', '=', 'issues.id')
        .as('item_count'),
      eb
        .selectFrom('issue_items')
        .select(sql<number>`count(DISTINCT segment_id)::int`.as('n'))
        .whereRef('issue_items.issue_id', '=', 'issues.id')
        .as('segment_count'),
      eb
        .selectFrom('issue_overrides')
        .select(sql<number>`count(*)::int`.as('n'))
        .whereRef('issue_overrides.week', '=', 'issues.week')
        .as('override_count'),
    ]);
}

type SummaryRow = Awaited<ReturnType<ReturnType<typeof summaryQuery>['executeTakeFirstOrThrow']>>;

function summaryRowToSummary(row: SummaryRow): IssueSummary {
  return {
    id: row.id,
    week: row.week,
    status: row.status,
    createdAt: row.created_at,
    builtAt: row.built_at,
    approvedAt: row.approved_at,
    itemCount: Number(row.item_count ?? 0),
    segmentCount: Number(row.segment_count ?? 0),
    overrideCount: Number(row.override_count ?? 0),
  };
}

/** The issue of a week with its counts, or null when it has not been built. */
export async function getIssue(db: Db | Tx, week: string): Promise<IssueSummary | null> {
  const row = await summaryQuery(db).where('issues.week', '=', week).executeTakeFirst();
  return row ? summaryRowToSummary(row) : null;
}

/** The stored row of a week's issue (every column), or undefined when there is none. */
export async function findIssueRow(db: Db | Tx, week: string): Promise<IssueRow | undefined> {
  return db.selectFrom('issues').selectAll().where('week', '=', week).executeTakeFirst();
}

/** The id, status and status reason of a week's issue, and when it was built; undefined when there is none. */
export async function findIssueState(
  db: Db | Tx,
  week: string,
): Promise<
  { id: number; status: IssueStatus; statusReason: string | null; builtAt: Date | null } | undefined
> {
  const row = await db
    .selectFrom('issues')
    .select(['id', 'status', 'status_reason', 'built_at'])
    .where('week', '=', week)
    .executeTakeFirst();
  return row && { id: row.id, status: row.status, statusReason: row.status_reason, builtAt: row.built_at };
}

/** The explanation of a week's selection as stored by the last build (null before one). */
export async function loadSelectionReport(db: Db | Tx, week: string): Promise<unknown> {
  const row = await db
    .selectFrom('issues')
    .select('selection_report')
    .where('week', '=', week)
    .executeTakeFirst();
  return row?.selection_report ?? null;
}

/** The audience frozen when the issue's send started (null before). */
export async function loadAudienceCounts(db: Db | Tx, issueId: number): Promise<AudienceCounts | null> {
  const row = await db
    .selectFrom('issues')
    .select('audience_counts')
    .where('id', '=', issueId)
    .executeTakeFirst();
  return row?.audience_counts ?? null;
}

/** Every issue, newest week first, with status and counts (for the editor's list). */
export async function listIssues(db: Db | Tx, limit = 100): Promise<IssueSummary[]> {
  const rows = await summaryQuery(db).orderBy('issues.week', 'desc').limit(limit).execute();
  return rows.map(summaryRowToSummary);
}

/** Throws IssueStateError unless the week's issue is missing or still a draft: only drafts change. */
export async function assertIssueEditable(db: Db | Tx, week: string): Promise<void> {
  const row = await db.selectFrom('issues').select('status').where('week', '=', week).executeTakeFirst();
  if (row && row.status !== 'draft') {
    throw new IssueStateError(`issue ${week} is ${row.status}; its selection is frozen`);
  }
}
