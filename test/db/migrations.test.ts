import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.close());

describe('schema', () => {
  it('holds one issue per week and one delivery per issue and subscriber', async () => {
    await t.db.insertInto('issues').values({ week: '2026-W48' }).execute();
    await expect(t.db.insertInto('issues').values({ week: '2026-W48' }).execute()).rejects.toThrow(/unique/i);
    await expect(t.db.insertInto('issues').values({ week: '2026-W54' }).execute()).rejects.toThrow(/check/i);
    const issue = await t.db
      .selectFrom('issues')
      .select('id')
      .where('week', '=', '2026-W48')
      .executeTakeFirstOrThrow();
    const sub = await t.db
      .insertInto('subscribers')
      .values({ email: 'a@example.com' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const delivery = { issue_id: issue.id, subscriber_id: sub.id, segment_key: 'x', message_id: '<m@x>' };
    await t.db.insertInto('deliveries').values(delivery).execute();
    await expect(t.db.insertInto('deliveries').values(delivery).execute()).rejects.toThrow(/unique/i);
  });

  it('refuses non-normalised addresses and non-http links', async () => {
    await expect(
      t.db.insertInto('subscribers').values({ email: 'Mixed@Example.com' }).execute(),
    ).rejects.toThrow();
    await expect(
      sql`INSERT INTO stories (id, title, url, canonical_url, source_name, collected_at)
          VALUES ('x', 'T', 'javascript:alert(1)', 'x', 'S', now())`.execute(t.db),
    ).rejects.toThrow(/check/i);
  });
});
