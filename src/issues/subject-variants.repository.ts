import type { Db, OverrideChannel, Tx } from '../db/database.ts';
import { lockDraftForChange } from './issue.repository.ts';
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
    await lockDraftForChange(trx, week, 'subject variants are');
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
