/** z for a two-sided 95 % interval. */
export const Z95 = 1.959964;

/** Below this many delivered per group, or this many clickers in both, a comparison says "not enough data". */
export const MIN_DELIVERED = 100;
export const MIN_CLICKERS = 20;

/** Wilson score interval of a proportion x/n (0..1 bounds; [0, 1] for n = 0). */
export function wilsonInterval(x: number, n: number, z = Z95): [number, number] {
  if (n <= 0) return [0, 1];
  const p = x / n;
  const denominator = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denominator;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

export interface RateDifference {
  /** x1/n1 − x2/n2. */
  difference: number;
  /** 95 % interval of the difference (Newcombe's hybrid score method, his method 10). */
  low: number;
  high: number;
  /** The interval excludes 0. */
  significant: boolean;
  /** Each group has at least MIN_DELIVERED and both together MIN_CLICKERS: otherwise read nothing into it. */
  enoughData: boolean;
}

/**
 * The difference of two proportions (group 1 minus group 2) with Newcombe's score interval: right
 * where the Wald interval fails (small counts, rates near 0). Pure.
 */
export function rateDifference(x1: number, n1: number, x2: number, n2: number, z = Z95): RateDifference {
  const p1 = n1 > 0 ? x1 / n1 : 0;
  const p2 = n2 > 0 ? x2 / n2 : 0;
  const [l1, u1] = wilsonInterval(x1, n1, z);
  const [l2, u2] = wilsonInterval(x2, n2, z);
  const difference = p1 - p2;
  const low = difference - Math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2);
  const high = difference + Math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2);
  return {
    difference,
    low,
    high,
    significant: low > 0 || high < 0,
    enoughData: n1 >= MIN_DELIVERED && n2 >= MIN_DELIVERED && x1 + x2 >= MIN_CLICKERS,
  };
}
