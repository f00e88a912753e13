import type { SubjectVariant } from '../db/database.ts';

/** What the test phase measured for one variant: its group's delivered messages and human readers. */
export interface VariantFigures {
  variant: SubjectVariant;
  /** Readers in the group (tracked: untracked readers are never in a test group). */
  readers: number;
  /** Messages of the group accepted by the relay. */
  delivered: number;
  /** Distinct readers of the group with at least one human click (proxies and scanners left out). */
  humanClickers: number;
  /** Distinct readers of the group with at least one human open. */
  humanOpeners: number;
}

/** The rule: enough human clicks per variant, and a two-proportion z-test at `confidence`, Bonferroni-corrected. */
export interface DecisionRule {
  minHumanClicks: number;
  /** e.g. 0.95 */
  confidence: number;
}

export interface SubjectDecision {
  winner: SubjectVariant;
  reason: string;
  /** Pairwise comparisons the correction divides the error rate by (k·(k−1)/2 for k variants). */
  comparisons: number;
  /** The significance level each comparison had to pass: (1 − confidence) / comparisons. */
  alpha: number;
  /** The leader's two-sided p-value against each other variant. */
  pValues: Partial<Record<SubjectVariant, number>>;
}

const rate = (count: number, of: number): number => (of > 0 ? count / of : 0);
const percent = (value: number): string => `${(value * 100).toFixed(1)} %`;

/**
 * The winner of a subject test. Variants are ranked by human click rate (unique human clickers over
 * delivered), ties broken by human open rate. The leader wins only when every variant has at least
 * `minHumanClicks` human clickers and the leader's click rate is higher than each other variant's by a
 * two-sided two-proportion z-test at level (1 − confidence) / m, m = k·(k−1)/2 (Bonferroni over every
 * pair of the k variants). Otherwise variant A, the subject without a test. Pure.
 */
export function decideSubjectTest(figures: readonly VariantFigures[], rule: DecisionRule): SubjectDecision {
  const k = figures.length;
  const comparisons = Math.max(1, (k * (k - 1)) / 2);
  const alpha = (1 - rule.confidence) / comparisons;
  const base = { comparisons, alpha, pValues: {} };
  const short = figures.filter((f) => f.humanClickers < rule.minHumanClicks);
  if (k < 2 || short.length > 0) {
    const list = short.map((f) => `${f.variant} had ${f.humanClickers}`).join(', ');
    return {
      ...base,
      winner: 'A',
      reason: `too little data: ${list || 'no variant to compare'} human clicks, at least ${rule.minHumanClicks} per variant needed; variant A goes out`,
    };
  }
  const ranked = [...figures].sort(
    (a, b) =>
      rate(b.humanClickers, b.delivered) - rate(a.humanClickers, a.delivered) ||
      rate(b.humanOpeners, b.delivered) - rate(a.humanOpeners, a.delivered) ||
      a.variant.localeCompare(b.variant),
  );
  const leader = ranked[0] as VariantFigures;
  const pValues: Partial<Record<SubjectVariant, number>> = {};
  for (const other of ranked.slice(1))
    pValues[other.variant] = twoProportionPValue(
      leader.humanClickers,
      leader.delivered,
      other.humanClickers,
      other.delivered,
    );
  const leaderRate = percent(rate(leader.humanClickers, leader.delivered));
  if (leader.variant === 'A')
    return {
      ...base,
      pValues,
      winner: 'A',
      reason: `variant A had the highest human click rate (${leaderRate})`,
    };
  const weakest = Object.entries(pValues).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))[0] as [string, number];
  if (weakest[1] >= alpha) {
    return {
      ...base,
      pValues,
      winner: 'A',
      reason: `variant ${leader.variant} led (${leaderRate} human click rate) but not significantly over ${weakest[0]} (p = ${weakest[1].toFixed(4)}, needed < ${alpha.toFixed(4)} at ${percent(rule.confidence)} with ${comparisons} comparison${comparisons === 1 ? '' : 's'}); variant A goes out`,
    };
  }
  return {
    ...base,
    pValues,
    winner: leader.variant,
    reason: `variant ${leader.variant} won: ${leaderRate} human click rate, significantly above every other variant (largest p = ${weakest[1].toFixed(4)} < ${alpha.toFixed(4)}, ${percent(rule.confidence)} with ${comparisons} comparison${comparisons === 1 ? '' : 's'})`,
  };
}

/** Two-sided p-value of the pooled two-proportion z-test of x1/n1 against x2/n2. */
export function twoProportionPValue(x1: number, n1: number, x2: number, n2: number): number {
  if (n1 === 0 || n2 === 0) return 1;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return 1;
  const z = Math.abs(x1 / n1 - x2 / n2) / se;
  return Math.min(1, 2 * (1 - normalCdf(z)));
}

/** Φ(z) by the Abramowitz–Stegun 7.1.26 approximation of erf (error below 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
