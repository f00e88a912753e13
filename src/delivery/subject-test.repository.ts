import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Db, SubjectVariant, Tx } from '../db/database.ts';
import { retryTransaction } from '../db/retry-transaction.ts';
import {
  type DecisionRule,
  decideSubjectTest,
  type SubjectDecision,
  type VariantFigures,
} from './subject-decision.ts';

/** What starting a test needs: the variants compared (A first), the tracked share, hours to the decision. */
export interface SubjectTestPlan {
  variants: readonly SubjectVariant[];
  share: number;
  hours: number;
}

/** A subject test as stored, with its live figures. */
export interface SubjectTestState {
  issueId: number;
  variants: SubjectVariant[];
  share: number;
  startedAt: Date;
  decideAt: Date;
  decidedAt: Date | null;
  winner: SubjectVariant | null;
  reason: string | null;
  /** Readers of each test group and what they did (now, or as read at the decision). */
  figures: VariantFigures[];
  /** Readers held for the winner (tracked beyond the share, and every untracked reader). */
  held: number;
  /** The statistics of the decision (comparisons, level, p-values), once decided. */
  decision: Omit<SubjectDecision, 'winner' | 'reason'> | null;
}

/**
 * Splits a frozen audience for a subject test, in the transaction that froze it: every delivery gets a
 * group. A reader's place is a hash of the issue's random salt and their id, uniform in [0, 1): tracked
 * readers below `share` are spread evenly over the variants (one group each: the hash decides once), the
 * others, and every untracked reader, are held until the decision (`not_before` = the decision time,
 * `subject_variant` null: not claimed). One set-based statement.
 */
export async function splitAudience(trx: Tx, issueId: number, plan: SubjectTestPlan): Promise<void> {
  const salt = randomBytes(8).toString('hex');
  const { decide_at } = await trx
    .insertInto('subject_tests')
    .values({
      issue_id: issueId,
      variants: sql<SubjectVariant[]>`${[...plan.variants]}::text[]`,
      salt,
      share: plan.share,
      decide_at: sql<Date>`now() + make_interval(secs => ${plan.hours * 3600})`,
    })
    .returning('decide_at')
    .executeTakeFirstOrThrow();
  const n = plan.variants.length;
  await sql`
    UPDATE deliveries AS d
    SET subject_group = x.grp,
      subject_variant = CASE WHEN x.grp = 'held' THEN NULL ELSE x.grp END,
      not_before = CASE WHEN x.grp = 'held' THEN ${decide_at}::timestamptz ELSE d.not_before END
    FROM (
      SELECT id, CASE WHEN tracked AND u < ${plan.share}::float8
        THEN (${[...plan.variants]}::text[])[1 + least(floor(u / ${plan.share}::float8 * ${n})::int, ${n - 1})]
        ELSE 'held' END AS grp
      FROM (
        SELECT id, tracked,
          ('x' || substr(md5(${salt}::text || ':' || subscriber_id::text), 1, 8))::bit(32)::bigint / 4294967296.0 AS u
        FROM deliveries WHERE issue_id = ${issueId}
      ) AS h
    ) AS x
    WHERE d.id = x.id
  `.execute(trx);
}

interface FigureRow {
  variant: SubjectVariant;
  readers: string;
  delivered: string;
  human_clickers: string;
  human_openers: string;
}

/** Each test group's readers, delivered messages, and distinct human clickers and openers (the rollups). */
export async function readVariantFigures(db: Db | Tx, issueId: number): Promise<VariantFigures[]> {
  const { rows } = await sql<FigureRow>`
    SELECT d.subject_group AS variant, count(*) AS readers,
      count(*) FILTER (WHERE d.status = 'sent') AS delivered,
      count(*) FILTER (WHERE d.status = 'sent' AND EXISTS (
        SELECT 1 FROM event_reader_counts r WHERE r.issue_id = d.issue_id AND r.subscriber_id = d.subscriber_id
          AND r.kind = 'click' AND r.class = 'human' AND r.events > 0)) AS human_clickers,
      count(*) FILTER (WHERE d.status = 'sent' AND EXISTS (
        SELECT 1 FROM event_reader_counts r WHERE r.issue_id = d.issue_id AND r.subscriber_id = d.subscriber_id
          AND r.kind = 'open' AND r.class = 'human' AND r.events > 0)) AS human_openers
    FROM deliveries d
    WHERE d.issue_id = ${issueId} AND d.subject_group IN ('A', 'B', 'C')
    GROUP BY 1 ORDER BY 1
  `.execute(db);
  return rows.map((row) => ({
    variant: row.variant,
    readers: Number(row.readers),
    delivered: Number(row.delivered),
    humanClickers: Number(row.human_clickers),
    humanOpeners: Number(row.human_openers),
  }));
}

/** Every variant of the test with its figures, a group without a row counted as empty. */
function allFigures(variants: readonly SubjectVariant[], read: readonly VariantFigures[]): VariantFigures[] {
  return variants.map(
    (variant) =>
      read.find((f) => f.variant === variant) ?? {
        variant,
        readers: 0,
        delivered: 0,
        humanClickers: 0,
        humanOpeners: 0,
      },
  );
}

/** The issue's subject test, with live figures before the decision and the stored ones after; null: none. */
export async function loadSubjectTest(db: Db | Tx, issueId: number): Promise<SubjectTestState | null> {
  const row = await db
    .selectFrom('subject_tests')
    .selectAll()
    .where('issue_id', '=', issueId)
    .executeTakeFirst();
  if (!row) return null;
  const stored = row.figures as { variants: VariantFigures[]; decision: SubjectTestState['decision'] } | null;
  const held = await sql<{ n: string }>`
    SELECT count(*) AS n FROM deliveries WHERE issue_id = ${issueId} AND subject_group = 'held'
  `.execute(db);
  return {
    issueId,
    variants: row.variants,
    share: row.share,
    startedAt: row.started_at,
    decideAt: row.decide_at,
    decidedAt: row.decided_at,
    winner: row.winner,
    reason: row.reason,
    figures: stored?.variants ?? allFigures(row.variants, await readVariantFigures(db, issueId)),
    held: Number(held.rows[0]?.n ?? 0),
    decision: stored?.decision ?? null,
  };
}

/** When an undecided test of the issue decides (null: no test, or already decided). */
export async function pendingDecisionAt(db: Db, issueId: number): Promise<Date | null> {
  const row = await db
    .selectFrom('subject_tests')
    .select('decide_at')
    .where('issue_id', '=', issueId)
    .where('decided_at', 'is', null)
    .executeTakeFirst();
  return row?.decide_at ?? null;
}

/**
 * Decides the issue's subject test once its time has come: reads the figures, applies the rule, stores
 * the winner, the reason and the figures, and gives every held delivery the winner's variant (claimable
 * from then on, like any queued row). The test's row is locked and the decision written only while
 * `decided_at` is null, so any number of racing processes (schedules, workers, `recap send --wait`)
 * decide it once. Returns the decision when this call made it, else null (not due, none, or decided).
 */
export async function decideDueSubjectTest(
  db: Db,
  issueId: number,
  rule: DecisionRule,
): Promise<SubjectDecision | null> {
  const due = await db
    .selectFrom('subject_tests')
    .select('issue_id')
    .where('issue_id', '=', issueId)
    .where('decided_at', 'is', null)
    .where('decide_at', '<=', sql<Date>`now()`)
    .executeTakeFirst();
  if (!due) return null;
  return retryTransaction(() =>
    db.transaction().execute(async (trx) => {
      const test = await trx
        .selectFrom('subject_tests')
        .select(['variants', 'decided_at', 'decide_at'])
        .where('issue_id', '=', issueId)
        .forUpdate()
        .executeTakeFirst();
      if (!test || test.decided_at !== null) return null;
      const figures = allFigures(test.variants, await readVariantFigures(trx, issueId));
      const decision = decideSubjectTest(figures, rule);
      const { winner, reason, ...statistics } = decision;
      const stored = await trx
        .updateTable('subject_tests')
        .set({
          decided_at: sql<Date>`now()`,
          winner,
          reason,
          figures: JSON.stringify({ variants: figures, decision: statistics }),
        })
        .where('issue_id', '=', issueId)
        .where('decided_at', 'is', null)
        .executeTakeFirst();
      if (Number(stored.numUpdatedRows) !== 1) return null;
      await trx
        .updateTable('deliveries')
        .set({ subject_variant: winner, not_before: null })
        .where('issue_id', '=', issueId)
        .where('subject_group', '=', 'held')
        .where('subject_variant', 'is', null)
        .execute();
      return decision;
    }),
  );
}

/** Decides every subject test whose time has come (the schedule's tick). Returns the weeks decided. */
export async function decideDueSubjectTests(
  db: Db,
  rule: DecisionRule,
): Promise<Array<{ issueId: number; decision: SubjectDecision }>> {
  const due = await db
    .selectFrom('subject_tests')
    .select('issue_id')
    .where('decided_at', 'is', null)
    .where('decide_at', '<=', sql<Date>`now()`)
    .execute();
  const decided: Array<{ issueId: number; decision: SubjectDecision }> = [];
  for (const { issue_id } of due) {
    const decision = await decideDueSubjectTest(db, issue_id, rule);
    if (decision) decided.push({ issueId: issue_id, decision });
  }
  return decided;
}
