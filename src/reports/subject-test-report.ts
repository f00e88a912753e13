import type { Db, SubjectVariant } from '../db/database.ts';
import { loadSubjectTest } from '../delivery/subject-test.repository.ts';
import { loadIssueWriting } from '../issues/issue-writing.repository.ts';
import { loadSubjectVariants } from '../issues/subject-variants.repository.ts';

/** One variant of a subject test as `recap stats --json` and the editor show it. */
export interface VariantReport {
  variant: SubjectVariant;
  /** The subject; null for A without an override (each segment set's computed subject). */
  subject: string | null;
  preheader: string | null;
  readers: number;
  delivered: number;
  humanClickers: number;
  humanOpeners: number;
  /** Human clickers / delivered, 0..1 (0 with nothing delivered). */
  humanClickRate: number;
  humanOpenRate: number;
  /** Two-sided p-value against the leader, once decided (absent for the leader itself). */
  pValue?: number;
}

export interface SubjectTestReport {
  share: number;
  startedAt: Date;
  decideAt: Date;
  decidedAt: Date | null;
  winner: SubjectVariant | null;
  reason: string | null;
  /** Readers waiting for (or sent) the winner: tracked beyond the share and every untracked reader. */
  held: number;
  /** Pairwise comparisons of the Bonferroni correction and the level each had to pass, once decided. */
  comparisons: number | null;
  alpha: number | null;
  variants: VariantReport[];
}

const rate = (count: number, of: number): number => (of > 0 ? Math.round((count / of) * 10_000) / 10_000 : 0);

/** An issue's subject test with its figures (live until the decision), or null when it has none. */
export async function loadSubjectTestReport(
  db: Db,
  issue: { id: number; week: string },
): Promise<SubjectTestReport | null> {
  const test = await loadSubjectTest(db, issue.id);
  if (!test) return null;
  const writing = await loadIssueWriting(db, issue.week);
  const texts = await loadSubjectVariants(db, issue.week);
  return {
    share: test.share,
    startedAt: test.startedAt,
    decideAt: test.decideAt,
    decidedAt: test.decidedAt,
    winner: test.winner,
    reason: test.reason,
    held: test.held,
    comparisons: test.decision?.comparisons ?? null,
    alpha: test.decision?.alpha ?? null,
    variants: test.figures.map((figures) => {
      const text = texts.find((t) => t.variant === figures.variant);
      const pValue = test.decision?.pValues[figures.variant];
      return {
        variant: figures.variant,
        subject: figures.variant === 'A' ? writing.subject : (text?.subject ?? null),
        preheader: figures.variant === 'A' ? writing.preheader : (text?.preheader ?? null),
        readers: figures.readers,
        delivered: figures.delivered,
        humanClickers: figures.humanClickers,
        humanOpeners: figures.humanOpeners,
        humanClickRate: rate(figures.humanClickers, figures.delivered),
        humanOpenRate: rate(figures.humanOpeners, figures.delivered),
        ...(pValue !== undefined ? { pValue } : {}),
      };
    }),
  };
}

const percent = (value: number): string => `${(value * 100).toFixed(1)} %`;

/** The test as lines of `recap stats`. */
export function formatSubjectTest(report: SubjectTestReport): string {
  const lines = [
    '',
    `Subject test (${percent(report.share)} of the tracked readers; ${report.held} held for the winner)`,
    ...report.variants.map(
      (v) =>
        `  ${v.variant}  ${v.subject ?? '(computed per segment set)'}\n` +
        `     ${v.delivered} delivered, ${v.humanClickers} human clickers (${percent(v.humanClickRate)}), ${v.humanOpeners} human openers (${percent(v.humanOpenRate)})`,
    ),
    report.decidedAt
      ? `  winner: ${report.winner} (${report.decidedAt.toISOString()}): ${report.reason}`
      : `  decided at ${report.decideAt.toISOString()}`,
  ];
  return `${lines.join('\n')}\n`;
}
