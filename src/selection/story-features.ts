import type { Story } from '../stories/story.ts';
import { storyNameWords } from './story-tokens.ts';

/** At most this many topics per story: the first names it mentions say what it is about. */
const MAX_NAME_TOPICS = 4;

/**
 * What a reader's or a segment's taste is learnt on: the story's source, and its topics. A topic is a
 * name the headline or "what changed" mentions ("nimbus", "nimbus5", "openai"; amounts and dates such
 * as "$2B" or "2026" are left out), plus its region ("region:eu"). Ranking's engagement term and each
 * reader's own order both read these, so "less like this" on a story means the same to both.
 */
export interface StoryFeatures {
  /** "source:" + the source name in lower case. */
  source: string;
  /** "name:…" and "region:…" keys, de-duplicated, in order of appearance. */
  topics: string[];
}

export function storyFeatures(story: Pick<Story, 'title' | 'tldr' | 'source' | 'region'>): StoryFeatures {
  return featuresFromNameWords(story, storyNameWords(story));
}

/** `storyFeatures` from the story's `storyNameWords` already computed (selection's clustering has them). */
export function featuresFromNameWords(
  story: Pick<Story, 'source' | 'region'>,
  nameWords: readonly string[],
): StoryFeatures {
  const names = nameWords
    .filter((word) => !/^[0-9]/.test(word))
    .slice(0, MAX_NAME_TOPICS)
    .map((word) => `name:${word}`);
  const region = story.region?.trim().toLowerCase();
  return {
    source: `source:${story.source.name.trim().toLowerCase()}`,
    topics: [...new Set(region ? [...names, `region:${region}`] : names)],
  };
}
