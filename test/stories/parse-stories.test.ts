import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblem, parseStories } from '../../src/stories/parse-stories.ts';
import { canonicalizeUrl } from '../../src/stories/story.ts';
import { storyJsonSchema } from '../../src/stories/story-json-schema.ts';
import { exampleStoryFile, fixturesDir } from '../support/cli.ts';

const example = readFileSync(exampleStoryFile, 'utf8');
const valid = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  title: `Story ${id}`,
  url: `https://example.com/${id}`,
  source: { name: 'Example' },
  publishedAt: '2026-11-23T09:30:00Z',
  ...extra,
});

describe('parseStories', () => {
  it('accepts the aggregator example exactly as published', () => {
    const { stories, problems } = parseStories(example);
    expect(problems).toEqual([]);
    expect(stories).toHaveLength(1);
    const story = stories[0];
    expect(story?.id).toBe('scmp-hk-ai-beyond-us-china-rivalry');
    expect(story?.audiences).toEqual(['Founders & Product Leaders']);
    expect(story?.tldr.whatToDoNext).toMatch(/^Explore Hong Kong/);
    expect(story?.keyTakeaways).toHaveLength(3);
    expect(story?.implications[1]?.rationale).toMatch(/heterogeneous|resilient/);
    expect(story?.timeline.map((t) => t.date)).toEqual(['2023-10', '2024-05', '2025-02', '2026-01']);
    expect(story?.publishedAt?.toISOString()).toBe('2026-11-23T09:30:00.000Z');
    expect(story?.hook).toBe("HK's strategy to lead AI outside US-China rivalry unlocks new collab ops");
  });

  it('keeps the optional hook trimmed, absent as null, and refuses an over-long one', () => {
    const withHook = parseStories(JSON.stringify(valid('h', { hook: '  A one-line hook  ' })));
    const without = parseStories(JSON.stringify(valid('n', { hook: '   ' })));
    const tooLong = parseStories(JSON.stringify(valid('l', { hook: 'x'.repeat(301) })));
    expect(withHook.stories[0]?.hook).toBe('A one-line hook');
    expect(without.stories[0]?.hook).toBeNull();
    expect(tooLong.stories).toHaveLength(0);
    expect(tooLong.problems.map(formatProblem).join('\n')).toMatch(/hook.*300/);
  });

  it('reads JSON arrays and NDJSON alike', () => {
    const array = parseStories(JSON.stringify([valid('a'), valid('b')]));
    const ndjson = parseStories(`${JSON.stringify(valid('a'))}\n\n${JSON.stringify(valid('b'))}\n`);
    expect(array.stories.map((s) => s.id)).toEqual(['a', 'b']);
    expect(ndjson.stories).toEqual(array.stories);
  });

  it('reports one line per problem with record, id and field', () => {
    const text = [
      JSON.stringify(valid('ok')),
      JSON.stringify(valid('bad-url', { url: 'javascript:alert(1)', source: { name: 'X', url: 'ftp://x' } })),
      '{not json',
      JSON.stringify({ title: 'no id' }),
      JSON.stringify(valid('no-time', { publishedAt: undefined })),
      JSON.stringify(valid('ok')),
      '[1]',
    ].join('\n');
    const { stories, problems, total } = parseStories(text);
    expect(total).toBe(7);
    expect(stories.map((s) => s.id)).toEqual(['ok']);
    const lines = problems.map(formatProblem);
    expect(lines).toContain('record 2, line 2 (id "bad-url"): url: must be an http(s) URL');
    expect(lines).toContain('record 2, line 2 (id "bad-url"): source.url: must be an http(s) URL');
    expect(lines.some((l) => l.startsWith('record 3, line 3: (record): invalid JSON'))).toBe(true);
    expect(lines).toContain('record 4, line 4: id: is required');
    expect(lines).toContain('record 5, line 5 (id "no-time"): publishedAt: needs publishedAt or collectedAt');
    expect(lines).toContain('record 6, line 6 (id "ok"): id: duplicate of record 1 in the same file');
    expect(lines).toContain('record 7, line 7: (record): must be a JSON object');
  });

  it('canonicalises URLs for same-event matching', () => {
    expect(canonicalizeUrl('https://WWW.Example.com/a/b/?utm_source=x&b=2&a=1#top')).toBe(
      'https://example.com/a/b?a=1&b=2',
    );
  });

  it('keeps docs/story.schema.json in step with the validator', () => {
    const committed = JSON.parse(
      readFileSync(path.join(fixturesDir, '../../docs/story.schema.json'), 'utf8'),
    );
    expect(committed).toEqual(storyJsonSchema());
    expect(committed.required).toEqual(expect.arrayContaining(['id', 'title', 'url', 'source']));
  });
});
