import type { Db, OverrideChannel, Tx } from '../db/database.ts';
import { IssueStateError } from './issue.repository.ts';
import type { SubjectVariantText } from './subject-variants.ts';

/** Variants B and C of a week's subject (none: an empty list), in order. Never throws for a missing week. */
export async function loadSubjectVariants(db: Db | Tx, week: string): Promise<SubjectVariantText[]> {
  const rows = await db
    .selectFrom('issue_subject_variants')
    .select(['variant', 'subject', 'preheader'])
    .where('week', '=', week)
    .orderBy('variant')
    .execute();
  return rows.map((row) => ({ variant: row.variant, subject: row.subject, preheader: row.preheader }));
}

/**
 * Sets (text) or removes (null) variant B or C of a week's subject (values already checked by
 * checkHeaderLine). Only while the issue is a draft or not built yet, like the subject override: the
 * variants are frozen with the issue at approval. Locks the issue row. Throws IssueStateError.
 */
export async function saveSubjectVariant(
  db: Db,
  week: string,
  variant: 'B' | 'C',
  text: { subject: string; preheader: string | null } | null,
  updatedBy: OverrideChannel,
): Promise<SubjectVariantText[]> {
  return db.transaction().execute(async (trx) => {
    const issue = await trx
      .selectFrom('issues')
      .select('status')
      .where('week', '=', week)
      .forUpdate()
      .executeTakeFirst();
    if (issue && issue.status !== 'draft') {
      throw new IssueStateError(
        issue.status === 'approved' || issue.status === 'scheduled'
          ? `issue ${week} is approved: its subject variants are frozen with it; return it to draft first (Back to draft in the editor, or: recap issue unapprove --week ${week})`
          : `issue ${week} is ${issue.status}: its subject variants can no longer change`,
      );
    }
    if (text === null) {
      await trx
        .deleteFrom('issue_subject_variants')
        .where('week', '=', week)
        .where('variant', '=', variant)
        .execute();
    } else {
      const values = { ...text, updated_by: updatedBy, updated_at: new Date() };
      await trx
        .insertInto('issue_subject_variants')
        .values({ week, variant, ...values })
        .onConflict((oc) => oc.columns(['week', 'variant']).doUpdateSet(values))
        .execute();
    }
    return loadSubjectVariants(trx, week);
  });
}
