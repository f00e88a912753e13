import { type AuthorityTable, DEFAULT_AUTHORITY, defaultSourceAuthority } from './source-authority.ts';

/** The named parts of a story's score. */
export type ScorePart = 'relevance' | 'coverage' | 'authority' | 'recency' | 'completeness' | 'engagement';

/**
 * Weights of the score's parts; each part is 0..1 except engagement (−1..1), so with the default weights
 * a story's score before boosts is −0.10..1.05.
 */
export type ScoreWeights = Record<ScorePart, number>;

export interface SelectionConfig {
  /** Stories per segment (top N). */
  storiesPerSegment: number;
  /** Below this many tagged stories, a segment is filled from the week's overall top, marked fallback. */
  minStoriesPerSegment: number;
  /** At most this many stories of one source in a segment. */
  maxPerSource: number;
  weights: ScoreWeights;
  authority: AuthorityTable;
  defaultAuthority: number;
  /** Weighted Jaccard of two stories' words at or above which they report the same event. */
  clusterThreshold: number;
  /** Maximal Marginal Relevance trade-off: 1 ranks by score alone, lower values favour variety. */
  mmrLambda: number;
  /** How much of the recency part a story keeps at the very start of the week (a Monday story keeps this). */
  recencyFloor: number;
}

export const defaultWeights: Readonly<ScoreWeights> = Object.freeze({
  relevance: 0.3,
  coverage: 0.3,
  authority: 0.15,
  recency: 0.1,
  completeness: 0.1,
  engagement: 0.1,
});

export const defaultSelectionConfig: Readonly<SelectionConfig> = Object.freeze({
  storiesPerSegment: 7,
  minStoriesPerSegment: 3,
  maxPerSource: 2,
  weights: defaultWeights,
  authority: defaultSourceAuthority,
  defaultAuthority: DEFAULT_AUTHORITY,
  clusterThreshold: 0.4,
  mmrLambda: 0.75,
  recencyFloor: 0.5,
});

/** The defaults with some values replaced; the authority table given replaces entries, it does not drop the defaults. */
export function selectionConfig(overrides: Partial<SelectionConfig> = {}): SelectionConfig {
  return {
    ...defaultSelectionConfig,
    ...overrides,
    weights: { ...defaultWeights, ...overrides.weights },
    authority: { ...defaultSourceAuthority, ...lowerKeys(overrides.authority ?? {}) },
  };
}

function lowerKeys(table: AuthorityTable): Record<string, number> {
  return Object.fromEntries(Object.entries(table).map(([key, value]) => [key.trim().toLowerCase(), value]));
}
