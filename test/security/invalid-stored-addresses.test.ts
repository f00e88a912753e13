import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/connect.ts';
import type { Db } from '../../src/db/database.ts';
import { startSend } from '../../src/delivery/start-send.ts';
import { listInvalidAddresses } from '../../src/subscribers/address-check.ts';
import { seedSend } from '../delivery/send-fixtures.ts';
import { runCli, tempWorkdir } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

// Upgrading: addresses stored before the strict parser (list-like ones a sign-up once accepted) are
// never mailed again and are listed for the operator.
const LEGACY = ['x,someone@example.org', 'a;b@example.org'];
let t: TestDatabase;

async function addLegacy(db: Db, segmentIds: number[]): Promise<string[]> {
  const rows = await db
    .insertInto('subscribers')
    .values(LEGACY.map((email) => ({ email, status: 'active' as const, confirmed_at: new Date() })))
    .returning('id')
    .execute();
  if (segmentIds.length === 0) return rows.map((row) => row.id);
  await db
    .insertInto('subscriptions')
    .values(rows.flatMap((row) => segmentIds.map((segment_id) => ({ subscriber_id: row.id, segment_id }))))
    .execute();
  return rows.map((row) => row.id);
}

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.close());

describe('invalid stored addresses', () => {
  it('are left out when a send freezes its audience, and listed with the reason', async () => {
    const seeded = await seedSend(t.db, 3);
    const legacy = await addLegacy(
      t.db,
      seeded.segments.map((s) => s.id),
    );
    const counts = await startSend(t.db, seeded.issueId, { messageIdDomain: 'news.example.test' });
    expect(counts.eligible).toBe(3);
    const audience = await t.db
      .selectFrom('deliveries')
      .select('subscriber_id')
      .where('issue_id', '=', seeded.issueId)
      .execute();
    expect(audience.map((row) => row.subscriber_id)).not.toContain(legacy[0]);
    expect(audience.map((row) => row.subscriber_id)).not.toContain(legacy[1]);
    const listed = await listInvalidAddresses(t.db);
    expect(listed.map((row) => row.email)).toEqual(LEGACY);
    expect(listed[0]?.reason).toMatch(/comma/);
    // Fixing the address clears the verdict (trigger): the next check finds it valid.
    await t.db
      .updateTable('subscribers')
      .set({ email: 'someone@example.org' })
      .where('id', '=', legacy[0] ?? '')
      .execute();
    expect((await listInvalidAddresses(t.db)).map((row) => row.email)).toEqual(['a;b@example.org']);
  });

  it('`recap subscribers invalid` lists them (child process)', async () => {
    const dir = tempWorkdir();
    const env: Record<string, string | undefined> = { RECAP_DATA_DIR: path.join(dir, 'data') };
    const target = await createTestDatabase();
    let db = target.db;
    let close = target.close;
    if (target.url) env.DATABASE_URL = target.url;
    else {
      await target.close();
      const handle = await connectDatabase({ databaseUrl: undefined, dataDir: env.RECAP_DATA_DIR as string });
      db = handle.db;
      close = handle.close;
    }
    await addLegacy(db, []);
    await db.insertInto('subscribers').values({ email: 'fine@example.org', status: 'active' }).execute();
    if (!target.url) await close();
    try {
      const result = await runCli(['subscribers', 'invalid'], env);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('2 stored addresses are invalid');
      expect(result.stdout).toContain('x,someone@example.org');
      expect(result.stdout).toContain('a;b@example.org');
      expect(result.stdout).not.toContain('fine@example.org');
    } finally {
      if (target.url) await close();
    }
  });
});
