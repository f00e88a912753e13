import type { Story } from '../stories/story.ts';
import { normaliseTitle, storyNameWords, storyWords } from './story-tokens.ts';
import { buildWordIndex, type WordIndex, weightedJaccard } from './word-similarity.ts';

/** One event as reported by one or more stories. */
export interface StoryCluster {
  /** The smallest member id, prefixed: stable for the same members whatever the input order. */
  id: string;
  /** Sorted by id. */
  members: Story[];
  /** Distinct source names, sorted: the event's coverage. */
  outlets: string[];
}

export interface Clustering {
  clusters: StoryCluster[];
  clusterOf: ReadonlyMap<string, StoryCluster>;
  /** Similarity of two stories known to the clustering (week stories and reference stories), 0..1. */
  similarity(a: string, b: string): number;
  /** The week's clusters a reference story (e.g. one sent last week) reports, by id, sorted. */
  matchesOf(referenceId: string): string[];
  /** `storyNameWords` of a story known to the clustering (computed once here), else null. */
  nameWordsOf(storyId: string): readonly string[] | null;
}

// A word found in more documents than this is too common to suggest a pair worth comparing; its weight
// is low anyway, so pairs sharing only such words never reach the threshold.
const MAX_BLOCKING_FREQUENCY = 100;

/**
 * Groups stories that report the same event: same canonical URL, same normalised headline, or a
 * weighted Jaccard of headline + TL;DR words at or above `threshold` (single link). Candidate pairs come
 * from an inverted index of the rarer words, so the cost grows with near-duplicates, not with n².
 * Deterministic: the result depends on the set of stories, not their order. `references` (e.g. the
 * previous issue's stories) are matched against the week's clusters but never join or merge them.
 */
// Long: one union-find pass over the week's stories; its steps share the token index and the parents.
export function clusterStories(
  stories: readonly Story[],
  threshold: number,
  references: readonly Story[] = [],
): Clustering {
  const week = [...new Map(stories.map((s) => [s.id, s])).values()].sort((a, b) => compareIds(a.id, b.id));
  const refs = references
    .filter((r) => !week.some((s) => s.id === r.id))
    .sort((a, b) => compareIds(a.id, b.id));
  const all = [...week, ...refs];
  const position = new Map(all.map((s, i) => [s.id, i]));
  const nameWords = all.map(storyNameWords);
  const index = buildWordIndex(all.map(storyWords), new Set(nameWords.flat()));
  const titles = all.map((s) => normaliseTitle(s.title));

  const parent = week.map((_, i) => i);
  const find = (i: number): number => {
    let root = i;
    while (parent[root] !== root) root = parent[root] as number;
    while (parent[i] !== root) {
      const next = parent[i] as number;
      parent[i] = root;
      i = next;
    }
    return root;
  };
  const union = (a: number, b: number) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };

  const byKey = new Map<string, number>();
  for (let i = 0; i < week.length; i++) {
    const story = week[i] as Story;
    for (const key of [`u:${story.canonicalUrl}`, `t:${titles[i]}`]) {
      const first = byKey.get(key);
      if (first === undefined) byKey.set(key, i);
      else union(first, i);
    }
  }
  forEachSimilarPair(index, week.length, week.length, threshold, (i, j) => union(i, j));

  const groups = new Map<number, Story[]>();
  for (let i = 0; i < week.length; i++) {
    const root = find(i);
    const group = groups.get(root);
    if (group) group.push(week[i] as Story);
    else groups.set(root, [week[i] as Story]);
  }
  const clusters = [...groups.values()].map((members) => ({
    id: `c:${(members[0] as Story).id}`,
    members,
    outlets: [...new Set(members.map((m) => m.source.name))].sort(compareIds),
  }));
  const clusterOf = new Map<string, StoryCluster>();
  for (const cluster of clusters) for (const member of cluster.members) clusterOf.set(member.id, cluster);

  const matches = new Map<string, Set<string>>();
  const addMatch = (refIndex: number, weekIndex: number) => {
    const ref = all[refIndex] as Story;
    const cluster = clusterOf.get((week[weekIndex] as Story).id) as StoryCluster;
    matches.set(ref.id, (matches.get(ref.id) ?? new Set()).add(cluster.id));
  };
  for (let r = week.length; r < all.length; r++) {
    const ref = all[r] as Story;
    for (const key of [`u:${ref.canonicalUrl}`, `t:${titles[r]}`]) {
      const hit = byKey.get(key);
      if (hit !== undefined) addMatch(r, hit);
    }
  }
  forEachSimilarPair(index, week.length, all.length, threshold, (i, r) => addMatch(r, i));

  return {
    clusters,
    clusterOf,
    similarity(a, b) {
      const i = position.get(a);
      const j = position.get(b);
      if (i === undefined || j === undefined) return 0;
      if (i === j) return 1;
      return weightedJaccard(index.docs[i] as Int32Array, index.docs[j] as Int32Array, index.weights);
    },
    nameWordsOf(storyId) {
      const i = position.get(storyId);
      return i === undefined ? null : (nameWords[i] ?? null);
    },
    matchesOf(referenceId) {
      const own = clusterOf.get(referenceId);
      if (own) return [own.id];
      return [...(matches.get(referenceId) ?? [])].sort(compareIds);
    },
  };
}

/**
 * Calls `onPair(i, j)` for every pair with i < weekCount, j > i and j < limit whose similarity reaches
 * the threshold. With limit === weekCount it compares the week's stories among themselves; with a larger
 * limit only pairs that reach into [weekCount, limit) are reported.
 */
function forEachSimilarPair(
  index: WordIndex,
  weekCount: number,
  limit: number,
  threshold: number,
  onPair: (i: number, j: number) => void,
): void {
  const postings = new Map<number, number[]>();
  for (let d = 0; d < limit; d++) {
    for (const word of index.docs[d] as Int32Array) {
      if ((index.documentFrequency[word] as number) > MAX_BLOCKING_FREQUENCY) continue;
      const list = postings.get(word);
      if (list) list.push(d);
      else postings.set(word, [d]);
    }
  }
  const seen = new Int32Array(limit).fill(-1);
  const crossOnly = limit > weekCount;
  for (let i = 0; i < weekCount; i++) {
    const a = index.docs[i] as Int32Array;
    for (const word of a) {
      for (const j of postings.get(word) ?? []) {
        if (j <= i || seen[j] === i || (crossOnly && j < weekCount)) continue;
        seen[j] = i;
        if (weightedJaccard(a, index.docs[j] as Int32Array, index.weights) >= threshold) onPair(i, j);
      }
    }
  }
}

/** Plain code-unit order: the same in every locale. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
