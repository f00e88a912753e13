import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoStories } from '../../emails/fixtures/demo-edition.ts';
import {
  jsonParameter,
  loadStoriesByIds,
  storyContentHash,
  upsertStories,
} from '../../src/stories/story.repository.ts';
import type { Story } from '../../src/stories/story.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

describe('jsonParameter', () => {
  it('turns a lone surrogate into U+FFFD and leaves pairs and escaped backslashes alone', () => {
    expect(JSON.parse(jsonParameter(['a\ud800b']))).toEqual(['a\ufffdb']);
    expect(JSON.parse(jsonParameter(['\\\ud800', '\ude00x']))).toEqual(['\\\ufffd', '\ufffdx']);
    expect(jsonParameter(['\\ud800'])).toBe(JSON.stringify(['\\ud800']));
    expect(jsonParameter(['😀 é'])).toBe(JSON.stringify(['😀 é']));
  });
});

describe('upsertStories', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.close();
  });

  const upsert = (stories: Story[]) =>
    database.db.transaction().execute((trx) => upsertStories(trx, stories));

  it('stores every field as given, the content hash included, and counts a repeat as unchanged', async () => {
    const [example, other] = demoStories();
    if (!example || !other) throw new Error('no stories');
    const tricky: Story = {
      ...other,
      id: 'tricky "quotes" \\ and, {braces}',
      title: 'Quotes " and \\ backslashes, NULL, {a,b} and ünïcödé 😀',
      hook: null,
      // Audiences load in segment order: one the example created first.
      audiences: example.audiences.slice(0, 1),
      region: null,
      source: { name: 'Source "S"', url: null },
      publishedAt: null,
      collectedAt: new Date('2026-11-24T08:15:30.123Z'),
      tldr: { whatChanged: 'changed', whyItMatters: null, whatToDoNext: null },
      keyTakeaways: ['one "1"', 'two \\ 2'],
      implications: [{ prediction: 'p', rationale: null }],
      timeline: [{ date: '2026-01', event: 'e "x"' }],
      related: [{ id: 'x' }, { title: 'T "t"', url: 'https://example.com/a?b=1&c="d"' }],
    };
    expect(await upsert([example, tricky])).toEqual({ imported: 2, updated: 0, unchanged: 0 });
    const loaded = await loadStoriesByIds(database.db, [example.id, tricky.id]);
    expect(loaded).toEqual([example, tricky].map((s) => ({ ...s, hook: s.hook ?? null })));
    const hashes = await database.db
      .selectFrom('stories')
      .select(['id', 'content_hash'])
      .where('id', 'in', [example.id, tricky.id])
      .execute();
    expect(new Map(hashes.map((row) => [row.id, row.content_hash]))).toEqual(
      new Map([
        [example.id, storyContentHash(example)],
        [tricky.id, storyContentHash(tricky)],
      ]),
    );
    expect(await upsert([example, tricky])).toEqual({ imported: 0, updated: 0, unchanged: 2 });
  });

  it('replaces the parts of an updated story and keeps a lone surrogate as U+FFFD', async () => {
    const [example] = demoStories();
    if (!example) throw new Error('no stories');
    const changed: Story = {
      ...example,
      title: 'Broken \ud800 surrogate',
      keyTakeaways: ['only one now'],
      implications: [],
      timeline: [],
      audiences: ['Researchers'],
    };
    expect(await upsert([changed])).toEqual({ imported: 0, updated: 1, unchanged: 0 });
    const [loaded] = await loadStoriesByIds(database.db, [example.id]);
    expect(loaded).toMatchObject({
      title: 'Broken \ufffd surrogate',
      keyTakeaways: ['only one now'],
      implications: [],
      timeline: [],
      audiences: ['Researchers'],
    });
    const parts = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM story_takeaways WHERE story_id = ${example.id}`.execute(database.db);
    expect(parts.rows[0]?.n).toBe(1);
  });
});
