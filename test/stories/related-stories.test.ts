import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoStories } from '../../emails/fixtures/demo-edition.ts';
import {
  loadStoriesByIds,
  resolveRelatedStories,
  upsertStories,
} from '../../src/stories/story.repository.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

describe('stored hook and related stories', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.close();
  });

  it('keeps the hook, resolves id-only related entries from stored stories and leaves out unknown ids', async () => {
    const [first, second] = demoStories();
    if (!first || !second) throw new Error('no stories');
    const story = {
      ...first,
      related: [
        { id: second.id },
        { id: 'not-stored' },
        { title: 'Given', url: 'https://example.com/given' },
      ],
    };
    await database.db.transaction().execute((trx) => upsertStories(trx, [story, second]));
    const [loaded] = await loadStoriesByIds(database.db, [story.id]);
    expect(loaded?.hook).toBe("HK's strategy to lead AI outside US-China rivalry unlocks new collab ops");
    const [resolved] = await resolveRelatedStories(database.db, loaded ? [loaded] : []);
    expect(resolved?.related).toEqual([
      { id: second.id, title: second.title, url: second.url },
      { title: 'Given', url: 'https://example.com/given' },
    ]);
  });
});
