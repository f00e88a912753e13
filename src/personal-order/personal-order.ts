import type { StoryFeatures } from '../selection/story-features.ts';

/**
 * Each reader's own order of an edition's movable stories (the compact, unpinned cards after each
 * section's first card), from the reader's own human clicks and votes. Pure: no database, no clock.
 *
 * The model, in three steps:
 * 1. Affinity per feature key (a source, a topic) from the reader's history: every click counts +1, a
 *    "more like this" +2, a "less like this" −3, each weighted by HISTORY_DECAY^age (age in issues, 0 =
 *    the latest issue before this one). affinity(key) = Σ weighted signals on the key / (Σ |weighted
 *    signals| + PRIOR): a share of the reader's engagement between −1 and 1, shrunk towards 0 while the
 *    history is short.
 * 2. Score per movable story = SOURCE_WEIGHT · affinity(source) + TOPIC_WEIGHT · mean affinity(topics).
 * 3. Bounded reorder per section: place by place, the story whose editorial index − PLACES_PER_POINT ·
 *    score is lowest among those at most MAX_SHIFT places below, except that a story about to fall more
 *    than MAX_SHIFT places behind its editorial place takes the place first. So no story moves more than
 *    MAX_SHIFT places either way; equal keys keep the editorial order. An update whose earlier story the
 *    reader clicked comes before every other story it may pass (first of its section when within reach).
 */

/** Signal of one reader action on a story. */
export const SIGNALS = { click: 1, more: 2, less: -3 } as const;
/** Weight of an action per issue of age: the latest issue counts 1, the one before 0.8, … */
export const HISTORY_DECAY = 0.8;
/** Pseudo-count that keeps a short history from moving stories far. */
export const PRIOR = 2;
export const SOURCE_WEIGHT = 1;
export const TOPIC_WEIGHT = 1;
/** Places one point of score is worth against the editorial order. */
export const PLACES_PER_POINT = 3;
/** No story moves more than this many places from its editorial place. */
export const MAX_SHIFT = 3;

export type ReaderAction = keyof typeof SIGNALS;

/** One thing the reader did on a story of an earlier issue. */
export interface HistoryEvent {
  storyId: string;
  features: StoryFeatures;
  action: ReaderAction;
  /** Issues ago: 0 for the latest issue before the one being sent. */
  age: number;
  /** How many times (clicks on the story's links); default 1. */
  count?: number;
}

/** A movable story of this edition as the model sees it. */
export interface OrderableStory {
  id: string;
  features: StoryFeatures;
  /** The earlier story this one continues (IssueStory.update?.storyId), if it is an update. */
  updateOf?: string | null;
}

/** One section's movable stories in editorial order. */
export interface OrderableSection {
  stories: OrderableStory[];
}

/** The reader's affinity per feature key, and the stories they clicked. */
export interface ReaderTaste {
  affinity: ReadonlyMap<string, number>;
  clicked: ReadonlySet<string>;
}

/** The affinities of a reader's history (step 1). An empty history gives an empty taste. */
export function readerTaste(history: readonly HistoryEvent[]): ReaderTaste {
  const sums = new Map<string, number>();
  const clicked = new Set<string>();
  let mass = 0;
  for (const event of history) {
    const weighted = SIGNALS[event.action] * (event.count ?? 1) * HISTORY_DECAY ** Math.max(0, event.age);
    mass += Math.abs(weighted);
    if (event.action === 'click') clicked.add(event.storyId);
    for (const key of new Set([event.features.source, ...event.features.topics]))
      sums.set(key, (sums.get(key) ?? 0) + weighted);
  }
  const affinity = new Map<string, number>();
  for (const [key, sum] of sums) affinity.set(key, sum / (mass + PRIOR));
  return { affinity, clicked };
}

/** A story's score for a reader (step 2): positive moves it up, negative down. */
export function storyScore(taste: ReaderTaste, features: StoryFeatures): number {
  const source = taste.affinity.get(features.source) ?? 0;
  const topics =
    features.topics.length === 0
      ? 0
      : features.topics.reduce((sum, key) => sum + (taste.affinity.get(key) ?? 0), 0) /
        features.topics.length;
  return SOURCE_WEIGHT * source + TOPIC_WEIGHT * topics;
}

/**
 * The order of one section (step 3): the indices of `keys` (lower key = earlier) such that no index
 * moves more than `maxShift` places from where it was; equal keys keep their order. Deterministic.
 */
export function boundedOrder(keys: readonly number[], maxShift = MAX_SHIFT): number[] {
  const placed = new Array<boolean>(keys.length).fill(false);
  const order: number[] = [];
  for (let place = 0; place < keys.length; place++) {
    // The story whose editorial place is maxShift above this one must take it now.
    const due = place - maxShift;
    let pick = due >= 0 && !placed[due] ? due : -1;
    if (pick < 0) {
      for (let index = Math.max(0, due); index <= Math.min(keys.length - 1, place + maxShift); index++) {
        if (placed[index]) continue;
        if (pick < 0 || (keys[index] as number) < (keys[pick] as number)) pick = index;
      }
    }
    placed[pick] = true;
    order.push(pick);
  }
  return order;
}

/**
 * A reader's own order of an edition's movable stories: every section's story ids concatenated, each
 * section reordered within itself (the ids stay in their section, none added or lost). Null when the
 * reader has no history or the order equals the editorial one: the delivery then keeps the editorial
 * order. Pure and deterministic.
 */
export function personalOrder(
  history: readonly HistoryEvent[],
  sections: readonly OrderableSection[],
): string[] | null {
  if (history.length === 0) return null;
  const taste = readerTaste(history);
  const order: string[] = [];
  let changed = false;
  for (const section of sections) {
    const keys = section.stories.map((story, index) =>
      story.updateOf && taste.clicked.has(story.updateOf)
        ? Number.NEGATIVE_INFINITY
        : index - PLACES_PER_POINT * storyScore(taste, story.features),
    );
    const indices = boundedOrder(keys);
    indices.forEach((storyIndex, place) => {
      if (storyIndex !== place) changed = true;
      order.push((section.stories[storyIndex] as OrderableStory).id);
    });
  }
  return changed ? order : null;
}
