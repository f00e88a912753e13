import type { SubjectVariant } from '../db/database.ts';
import type { IssueWriting } from './issue-writing.ts';

/** Variant B or C of an issue's subject: its text applies to every segment set. */
export interface SubjectVariantText {
  variant: 'B' | 'C';
  subject: string;
  /** null: each segment set's preheader as variant A has it. */
  preheader: string | null;
}

/** The variants an issue's test compares: A (the subject without a test), then B and C when written. */
export function testedVariants(variants: readonly SubjectVariantText[] | undefined): SubjectVariant[] {
  return variants && variants.length > 0 ? ['A', ...variants.map((v) => v.variant)] : [];
}

/**
 * The writing an edition is rendered with for a variant: A keeps the issue's own (override or computed);
 * B and C replace the subject, and the preheader when they have one. Pure.
 */
export function writingForVariant(
  writing: IssueWriting | undefined,
  variants: readonly SubjectVariantText[] | undefined,
  variant: SubjectVariant | null | undefined,
): IssueWriting | undefined {
  const text = variant && variant !== 'A' ? variants?.find((v) => v.variant === variant) : undefined;
  if (!text) return writing;
  return {
    note: writing?.note ?? null,
    subject: text.subject,
    preheader: text.preheader ?? writing?.preheader ?? null,
  };
}
