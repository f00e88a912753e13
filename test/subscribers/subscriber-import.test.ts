import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/stories/parse-stories.ts';
import { ensureSegments } from '../../src/stories/story.repository.ts';
import { upsertSubscribers } from '../../src/subscribers/subscriber.repository.ts';
import { parseSubscribersCsv } from '../../src/subscribers/subscriber-import.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.close());

describe('subscriber import', () => {
  it('validates addresses, names, segments and time zones, one line per problem', async () => {
    const segments = await ensureSegments(t.db, ['Researchers', 'Investors']);
    const csv = [
      'email,name,segments,timezone',
      ' Ada@Example.COM ,Ada Lovelace,Researchers;investors,Europe/London',
      'not-an-address,Bob,Researchers,',
      'eve@example.com,"Eve\u0007",Researchers,',
      'zed@example.com,Zed,Astrologers,Mars/Olympus',
      'ada@example.com,Ada again,Researchers,',
    ].join('\n');
    const { subscribers, problems } = parseSubscribersCsv(csv, segments);
    expect(subscribers).toEqual([
      {
        email: 'ada@example.com',
        name: 'Ada Lovelace',
        timeZone: 'Europe/London',
        segmentIds: segments.map((s) => s.id),
      },
    ]);
    const lines = problems.map(formatProblem);
    expect(lines).toContain(
      'record 2, line 3 (id "not-an-address"): email: is not a valid email address: has no "@"',
    );
    expect(lines).toContain('record 3, line 4 (id "eve@example.com"): name: contains control characters');
    expect(
      lines.some((l) =>
        l.startsWith('record 4, line 5 (id "zed@example.com"): segments: unknown segment "Astrologers"'),
      ),
    ).toBe(true);
    expect(lines).toContain(
      'record 4, line 5 (id "zed@example.com"): timezone: unknown time zone "Mars/Olympus"',
    );
    expect(lines).toContain(
      'record 5, line 6 (id "ada@example.com"): email: duplicate of line 2 in the same file',
    );
  });

  it('reads the optional tracking column (yes/no); TRACKING_DEFAULT fills the gaps for new rows, known ones keep their choice', async () => {
    const segments = await ensureSegments(t.db, ['Researchers']);
    const csv = [
      'email,name,segments,tracking',
      'yes@example.com,Y,Researchers,Yes',
      'no@example.com,N,Researchers,no',
      'blank@example.com,B,Researchers,',
      'maybe@example.com,M,Researchers,maybe',
    ].join('\n');
    const { subscribers, problems } = parseSubscribersCsv(csv, segments);
    expect(subscribers.map((s) => [s.email, s.tracking])).toEqual([
      ['yes@example.com', true],
      ['no@example.com', false],
      ['blank@example.com', undefined],
    ]);
    expect(problems.map(formatProblem)).toEqual([
      'record 4, line 5 (id "maybe@example.com"): tracking: expected yes or no (got "maybe")',
    ]);
    await t.db
      .transaction()
      .execute((trx) => upsertSubscribers(trx, subscribers, 'a.csv', { trackingDefault: false }));
    const tracking = async () =>
      Object.fromEntries(
        (
          await t.db
            .selectFrom('subscribers')
            .select(['email', 'tracking_enabled'])
            .where('email', 'in', ['yes@example.com', 'no@example.com', 'blank@example.com'])
            .execute()
        ).map((r) => [r.email, r.tracking_enabled]),
      );
    expect(await tracking()).toEqual({
      'yes@example.com': true,
      'no@example.com': false,
      'blank@example.com': false,
    });
    const flipped = subscribers.map((s) => ({ ...s, tracking: !s.tracking }));
    await t.db
      .transaction()
      .execute((trx) => upsertSubscribers(trx, flipped, 'b.csv', { trackingDefault: true }));
    expect(await tracking()).toEqual({
      'yes@example.com': true,
      'no@example.com': false,
      'blank@example.com': false,
    });
    await t.db
      .deleteFrom('subscribers')
      .where('email', 'in', ['yes@example.com', 'no@example.com', 'blank@example.com'])
      .execute();
  });

  it('is idempotent by address and never resubscribes someone who left', async () => {
    const segments = await ensureSegments(t.db, ['Researchers', 'Investors']);
    const csv =
      'email,name,segments\nkim@example.com,Kim,Researchers\nlee@example.com,Lee,Investors;Researchers\n';
    const { subscribers } = parseSubscribersCsv(csv, segments);
    const first = await t.db.transaction().execute((trx) => upsertSubscribers(trx, subscribers, 'a.csv'));
    expect(first).toEqual({ created: 2, updated: 0, unchanged: 0, refused: [] });
    await t.db
      .updateTable('subscribers')
      .set({ status: 'unsubscribed' })
      .where('email', '=', 'kim@example.com')
      .execute();
    const second = await t.db.transaction().execute((trx) => upsertSubscribers(trx, subscribers, 'a.csv'));
    // Identical rows are not written again: counted unchanged, like stories.
    expect(second).toEqual({ created: 0, updated: 0, unchanged: 2, refused: [] });
    const rows = await t.db
      .selectFrom('subscribers')
      .select(['email', 'status'])
      .where('email', 'in', ['kim@example.com', 'lee@example.com'])
      .orderBy('email')
      .execute();
    expect(rows).toEqual([
      { email: 'kim@example.com', status: 'unsubscribed' },
      { email: 'lee@example.com', status: 'active' },
    ]);
    const subs = await t.db
      .selectFrom('subscriptions')
      .select(({ fn }) => fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(subs.n)).toBe(3);
    const consent = await t.db.selectFrom('consent_log').select('action').execute();
    expect(consent).toEqual([{ action: 'imported' }, { action: 'imported' }]);
  });
});
