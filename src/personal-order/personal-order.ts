import type { StoryFeatures } from '../selection/story-features.ts';

/**
 * Each reader's own order of an edition's movable stories (the compact, unpinned cards after each
 * section's first card), from the reader's own human clicks and votes. Pure: no database, no clock.
 *
 * The model, in three steps:
 * 1. Lift per feature key (a source, a topic) from the reader's history of the last issues, every event
 *    weighted by HISTORY_DECAY^age (age in issues, 0 = the latest issue before this one). A story shown
 *    to the reader is an exposure of each of its keys; a click is a signal of +1, "more like this" +2,
 *    "less like this" −3. With r = the reader's clicks per story shown, a key expects r · shown_k clicks;
 *    lift_k = (signal_k − r · shown_k) / (r · (shown_k + PRIOR)), clamped to ±MAX_LIFT: 0 for a key the
 *    reader clicks as often as anything else, +1 for twice as often, −1 for never; PRIOR pseudo-exposures
 *    keep a key seen once or twice near 0. Normalising by exposure keeps a source the edition carries every
 *    week from looking liked only because it is frequent.
 * 2. Score per movable story = SOURCE_WEIGHT · lift(source) + TOPIC_WEIGHT · mean lift(topics).
 * 3. Bounded reorder per section: place by place, the story whose editorial index − PLACES_PER_POINT ·
 *    score is lowest among those at most MAX_SHIFT places below, except that a story about to fall more
 *    than MAX_SHIFT places behind its editorial place takes the place first. So no story moves more than
 *    MAX_SHIFT places either way; equal keys keep the editorial order. The one exception: an update whose
 *    earlier story the reader clicked goes first among its section's movable stories (several such
 *    updates keep their editorial order), and the others follow in the bounded order.
 */

/** Signal of one reader action on a story ('shown' is an exposure, no signal). */
export const SIGNALS = { shown: 0, click: 1, more: 2, less: -3 } as const;
/** Weight of an event per issue of age: the latest issue counts 1, the one before 0.8, … */
export const HISTORY_DECAY = 0.8;
/** Pseudo-exposures that keep a key seen a few times from moving stories far. */
export const PRIOR = 3;
/** A lift beyond this (a vote on a rarely clicked key) counts as this. */
export const MAX_LIFT = 2;
export const SOURCE_WEIGHT = 1;
export const TOPIC_WEIGHT = 1;
/** Places one point of score is worth against the editorial order. */
export const PLACES_PER_POINT = 2;
/** No story moves more than this many places from its editorial place. */
export const MAX_SHIFT = 3;

export type ReaderAction = keyof typeof SIGNALS;

/** One thing the reader did on (or was shown of) a story of an earlier issue. */
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

/** The reader's lift per feature key, and the stories they clicked. */
export interface ReaderTaste {
  affinity: ReadonlyMap<string, number>;
  clicked: ReadonlySet<string>;
}

/**
 * The lifts of a reader's history (step 1). Without 'shown' events (exposure unknown) the rate is taken
 * as one click in ten and every key as never shown: each click then counts fully. An empty history
 * gives an empty taste.
 */
export function readerTaste(history: readonly HistoryEvent[]): ReaderTaste {
  const shown = new Map<string, number>();
  const signal = new Map<string, number>();
  const clicked = new Set<string>();
  let shownTotal = 0;
  let clicksTotal = 0;
  // A source key ("source:…") never equals a topic key, and storyFeatures de-duplicates the topics.
  const add = (map: Map<string, number>, features: StoryFeatures, value: number) => {
    map.set(features.source, (map.get(features.source) ?? 0) + value);
    for (const key of features.topics) map.set(key, (map.get(key) ?? 0) + value);
  };
  for (const event of history) {
    const weight = (event.count ?? 1) * HISTORY_DECAY ** Math.max(0, event.age);
    if (event.action === 'shown') {
      shownTotal += weight;
      add(shown, event.features, weight);
      continue;
    }
    if (event.action === 'click') {
      clicked.add(event.storyId);
      clicksTotal += weight;
    }
    add(signal, event.features, SIGNALS[event.action] * weight);
  }
  // The reader's clicks per story shown; one in ten for a reader who only voted or whose exposures are unknown.
  const rate = shownTotal > 0 && clicksTotal > 0 ? clicksTotal / shownTotal : 0.1;
  const affinity = new Map<string, number>();
  for (const key of new Set([...shown.keys(), ...signal.keys()])) {
    const sum = signal.get(key) ?? 0;
    const exposure = shown.get(key) ?? 0;
    const lift = (sum - rate * exposure) / (rate * (exposure + PRIOR));
    affinity.set(key, Math.max(-MAX_LIFT, Math.min(MAX_LIFT, lift)));
  }
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
  // Stories shown without a click or vote are no history.
  if (!history.some((event) => event.action !== 'shown')) return null;
  const taste = readerTaste(history);
  const order: string[] = [];
  let changed = false;
  for (const section of sections) {
    // Updates of a story the reader clicked lead the section, whatever the bound: the reader follows
    // that event. The others keep the bounded order among themselves, behind them.
    const followed: number[] = [];
    const others: number[] = [];
    section.stories.forEach((story, index) => {
      (story.updateOf && taste.clicked.has(story.updateOf) ? followed : others).push(index);
    });
    const keys = others.map(
      (storyIndex, index) =>
        index -
        PLACES_PER_POINT * storyScore(taste, (section.stories[storyIndex] as OrderableStory).features),
    );
    const indices = [...followed, ...boundedOrder(keys).map((index) => others[index] as number)];
    indices.forEach((storyIndex, place) => {
      if (storyIndex !== place) changed = true;
      order.push((section.stories[storyIndex] as OrderableStory).id);
    });
  }
  return changed ? order : null;
}
