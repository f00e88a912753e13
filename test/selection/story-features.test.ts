import { describe, expect, it } from 'vitest';
import { storyFeatures } from '../../src/selection/story-features.ts';

describe('storyFeatures', () => {
  it('names the source and the names a story is about, without amounts', () => {
    const features = storyFeatures({
      title: 'Nimbus Labs raises $2B for Nimbus-5 in 2026',
      tldr: { whatChanged: 'The round was led by Sequoia.', whyItMatters: null, whatToDoNext: null },
      source: { name: ' Reuters ', url: null },
      region: 'EU',
    });
    expect(features.source).toBe('source:reuters');
    expect(features.topics).toContain('name:lab');
    expect(features.topics).toContain('name:nimbus5');
    expect(features.topics).toContain('region:eu');
    expect(features.topics.some((topic) => /2b|2026/.test(topic))).toBe(false);
    expect(features.topics.filter((topic) => topic.startsWith('name:')).length).toBeLessThanOrEqual(4);
  });
});
