import { canonicalizeUrl, type Story } from '../../src/stories/story.ts';

/** A complete enriched story with sensible defaults; override what a test cares about. */
export function makeStory(overrides: Partial<Story> & { id: string }): Story {
  const url = overrides.url ?? `https://news.example.com/${overrides.id}`;
  return {
    title: `Story ${overrides.id}`,
    canonicalUrl: canonicalizeUrl(url),
    source: { name: 'Example News', url: 'https://news.example.com' },
    region: 'US',
    publishedAt: new Date('2026-11-25T10:00:00Z'),
    collectedAt: null,
    audiences: ['Researchers'],
    tldr: { whatChanged: null, whyItMatters: 'It matters.', whatToDoNext: 'Read it.' },
    keyTakeaways: ['A takeaway.'],
    implications: [],
    timeline: [],
    related: [],
    ...overrides,
    url,
  };
}
