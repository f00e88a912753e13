import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudienceSegmentSets } from '../../src/reports/segment-sets.ts';
import {
  parseSegmentSet,
  segmentKeySql,
  segmentSetFromKey,
  segmentSetOf,
} from '../../src/stories/segment-set.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

describe('segment sets', () => {
  it('have one key for one set: distinct slugs in bytewise order, whatever the order given', () => {
    expect(segmentSetOf(['founders', 'engineers', 'founders']).key).toBe('engineers+founders');
    expect(segmentSetOf(['alpha', 'ab', 'a-c', '9']).key).toBe('9+a-c+ab+alpha');
    expect(segmentSetFromKey('founders+engineers')).toEqual(segmentSetOf(['engineers', 'founders']));
    expect(segmentSetFromKey('engineers+founders').slugs).toEqual(['engineers', 'founders']);
  });

  it('parse a key from outside only when every slug is known', () => {
    const known = new Set(['engineers', 'founders']);
    expect(parseSegmentSet('founders+engineers', known)?.key).toBe('engineers+founders');
    expect(parseSegmentSet('engineers+nobody', known)).toBeNull();
    expect(parseSegmentSet('', known)).toBeNull();
  });

  describe('in SQL', () => {
    let test: TestDatabase;
    beforeAll(async () => {
      test = await createTestDatabase();
    });
    afterAll(() => test?.close());

    it('get the same key as in TypeScript even where the slugs column sorts by a locale', async () => {
      const { db } = test;
      // A database whose locale sorts the slugs column another way: ICU with punctuation ignored, as
      // glibc locales such as en_US.UTF-8 do ("ab" before "a-c"; bytewise "a-c" comes first). Where ICU
      // is missing (the embedded database has only C), both orders agree and the check still runs.
      const icu = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_collation WHERE collprovider = 'i'`.execute(db);
      if (icu.rows[0]?.n) {
        await sql`CREATE COLLATION punctuation_ignored (provider = icu, locale = 'und-u-ka-shifted')`.execute(
          db,
        );
        await sql`ALTER TABLE segments ALTER COLUMN slug TYPE text COLLATE punctuation_ignored`.execute(db);
      }
      const slugs = ['ab', 'a-c', 'b'];
      const segments = await db
        .insertInto('segments')
        .values(slugs.map((slug) => ({ name: slug, slug })))
        .returning('id')
        .execute();
      const reader = await db
        .insertInto('subscribers')
        .values({ email: 'reader@example.org', status: 'active', confirmed_at: new Date() })
        .returning('id')
        .executeTakeFirstOrThrow();
      await db
        .insertInto('subscriptions')
        .values(segments.map((segment) => ({ subscriber_id: reader.id, segment_id: segment.id })))
        .execute();

      const expected = segmentSetOf(slugs).key;
      expect(expected).toBe('a-c+ab+b');
      // The editor's audience report and the send's ledger (start-send) build the key with this fragment.
      expect((await listAudienceSegmentSets(db)).map((set) => set.segmentKey)).toEqual([expected]);
      const direct = await sql<{ key: string }>`
        SELECT ${segmentKeySql(sql`g.slug`)} AS key FROM segments g`.execute(db);
      expect(direct.rows[0]?.key).toBe(expected);
    });
  });
});
