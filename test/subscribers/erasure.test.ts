import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/database.ts';
import { startSend } from '../../src/delivery/start-send.ts';
import { loadIssueStats, loadWeeklySeries } from '../../src/reports/issue-stats.ts';
import { listIssueSummaries } from '../../src/reports/issue-summaries.ts';
import { appendConsent } from '../../src/subscribers/consent-log.ts';
import type { EmailAddress } from '../../src/subscribers/email-address.ts';
import {
  erasedAddressHash,
  eraseSubscriber,
  exportSubscriberByEmail,
} from '../../src/subscribers/erasure.ts';
import { requestSignUp } from '../../src/subscribers/sign-up.ts';
import { upsertSubscribers } from '../../src/subscribers/subscriber.repository.ts';
import { parseSubscribersCsv } from '../../src/subscribers/subscriber-import.ts';
import { insertTrackingEvents } from '../../src/tracking/event-rollups.ts';
import { seedSend, WEEK } from '../delivery/send-fixtures.ts';
import { exampleStoryFile, runCli, tempWorkdir } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const cli = { ip: null, userAgent: null, source: 'cli' };

/** Every (table, column) of the schema, with its type: the erasure check reads them all. */
async function columns(db: Db): Promise<Array<{ table: string; column: string; type: string }>> {
  const result = await sql<{ table_name: string; column_name: string; data_type: string }>`
    SELECT table_name, column_name, data_type FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name NOT LIKE 'kysely_%'
      -- Monthly partitions of tracking_events are searched through their parent table.
      AND NOT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE c.relname = table_name AND c.relnamespace = current_schema()::regnamespace)`.execute(db);
  return result.rows.map((r) => ({ table: r.table_name, column: r.column_name, type: r.data_type }));
}

/** Rows of any table whose text or JSON columns mention `needle`, or whose subscriber ids equal `id`. */
async function rowsNaming(db: Db, needle: string, id: string): Promise<string[]> {
  const found: string[] = [];
  for (const { table, column, type } of await columns(db)) {
    const ref = sql.ref(`${table}.${column}`);
    const from = sql.table(table);
    let count: number;
    if (['text', 'character varying', 'jsonb', 'json'].includes(type)) {
      const { rows } = await sql<{ n: string }>`
        SELECT count(*) AS n FROM ${from}
        WHERE ${ref}::text ILIKE ${`%${needle}%`} OR ${ref}::text LIKE ${`%.${id}@%`}
          OR ${ref}::text LIKE ${`%"subscriberId": "${id}"%`}`.execute(db);
      count = Number(rows[0]?.n);
    } else if (column === 'subscriber_id' || (table === 'subscribers' && column === 'id')) {
      const { rows } = await sql<{
        n: string;
      }>`SELECT count(*) AS n FROM ${from} WHERE ${ref} = ${id}`.execute(db);
      count = Number(rows[0]?.n);
    } else continue;
    if (count > 0) found.push(`${table}.${column}`);
  }
  return found;
}

describe('export and erasure', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase();
  });
  afterAll(async () => {
    await test?.close();
  });

  it('exports every table that mentions the person; erasure leaves no row naming them, refuses re-import and keeps past numbers', async () => {
    const { db } = test;
    const seeded = await seedSend(db, 3);
    const email = 'reader0@example.test';
    const id = seeded.subscribers.get(email) as string;
    const other = seeded.subscribers.get('reader1@example.test') as string;
    await startSend(db, seeded.issueId, { messageIdDomain: 'news.example.test' });
    await db.updateTable('deliveries').set({ status: 'sent', sent_at: new Date() }).execute();
    await db
      .updateTable('deliveries')
      .set({ last_error: `earlier: 451 4.2.0 <${email}> greylisted` })
      .where('subscriber_id', '=', id)
      .execute();
    // Through the event writer's statement, so the rollups' per-person counts exist too.
    await insertTrackingEvents(db, [
      { kind: 'open', issue_id: seeded.issueId, subscriber_id: id, class: 'human' },
      { kind: 'click', issue_id: seeded.issueId, subscriber_id: id, class: 'human', link_position: 1 },
      { kind: 'open', issue_id: seeded.issueId, subscriber_id: other, class: 'human' },
    ]);
    await db
      .updateTable('tracking_events')
      .set({ ip: '198.51.100.7', user_agent: 'Mail' })
      .where('subscriber_id', '=', id)
      .execute();
    await appendConsent(
      db,
      id,
      'tracking-on',
      { ip: '198.51.100.7', userAgent: 'Firefox', source: 'web' },
      { shown: 'Count my opens and clicks', email },
    );
    await appendConsent(
      db,
      id,
      'unsubscribe',
      { ip: '198.51.100.7', userAgent: 'Firefox', source: 'web' },
      { issueId: seeded.issueId, shown: 'Unsubscribe' },
    );
    // A "less like this" and an issue rating from the feedback links.
    await db
      .insertInto('story_votes')
      .values({ subscriber_id: id, story_id: 'story-1', issue_id: seeded.issueId, vote: -1 })
      .execute();
    await db
      .insertInto('issue_ratings')
      .values({ subscriber_id: id, issue_id: seeded.issueId, rating: 2 })
      .execute();
    await db.updateTable('subscribers').set({ status: 'unsubscribed' }).where('id', '=', id).execute();

    const exported = await exportSubscriberByEmail(db, email);
    expect(exported).not.toBeNull();
    const tablesNamingSubscribers = [
      ...new Set((await columns(db)).filter((c) => c.column === 'subscriber_id').map((c) => c.table)),
    ];
    for (const table of tablesNamingSubscribers) {
      expect(exported, `export lacks ${table}`).toHaveProperty(table);
      expect((exported as unknown as Record<string, unknown[]>)[table]?.length, table).toBeGreaterThan(0);
    }
    expect(exported?.subscriber).toMatchObject({ email, id });
    expect(exported?.tracking_events[0]).toMatchObject({ week: WEEK, kind: 'open', ip: '198.51.100.7' });
    expect(exported?.consent_log.map((c) => c.action)).toEqual(['tracking-on', 'unsubscribe']);
    expect(exported?.deliveries[0]).toMatchObject({ week: WEEK, status: 'sent', tracked: true });

    const stats = await loadIssueStats(db, WEEK);
    const series = await loadWeeklySeries(db);
    const summaries = await listIssueSummaries(db);
    expect(stats?.totals).toMatchObject({
      recipients: 3,
      humanOpeners: 2,
      humanClickers: 1,
      unsubscribes: 1,
    });

    expect(await eraseSubscriber(db, email, cli)).toMatchObject({
      outcome: 'erased',
      keptDeliveries: 1,
      keptEvents: 2,
    });
    expect(await rowsNaming(db, email, id)).toEqual([]);
    expect(await exportSubscriberByEmail(db, email)).toBeNull();
    // Idempotent, and the erasure itself is logged without the address.
    expect(await eraseSubscriber(db, ` ${email.toUpperCase()} `, cli)).toMatchObject({
      outcome: 'already-erased',
    });
    const logged = await db
      .selectFrom('consent_log')
      .select(['action', 'detail'])
      .where('action', '=', 'erased')
      .execute();
    expect(logged).toEqual([{ action: 'erased', detail: { source: 'cli' } }]);
    expect(await db.selectFrom('erased_addresses').select('hash').execute()).toEqual([
      { hash: erasedAddressHash(email) },
    ]);

    // Past numbers are unchanged: every report that counts deliveries, events or unsubscribes.
    expect((await loadIssueStats(db, WEEK))?.totals).toEqual(stats?.totals);
    expect((await loadIssueStats(db, WEEK))?.segments).toEqual(stats?.segments);
    expect((await loadIssueStats(db, WEEK))?.links).toEqual(stats?.links);
    expect(await loadWeeklySeries(db)).toEqual(series);
    expect(await listIssueSummaries(db)).toEqual(summaries);

    // A re-import of the address is refused; the other rows of the file go in.
    const segment = seeded.segments[0]?.name;
    const csv = `email,name,segments,tracking\n${email},Again,${segment},yes\nnew@example.test,New,${segment},no\n`;
    const parsed = parseSubscribersCsv(csv, seeded.segments);
    expect(parsed.problems).toEqual([]);
    const result = await db
      .transaction()
      .execute((trx) => upsertSubscribers(trx, parsed.subscribers, 'again.csv'));
    expect(result).toEqual({ created: 1, updated: 0, unchanged: 0, refused: [email] });
    expect(await db.selectFrom('subscribers').select('email').where('email', '=', email).execute()).toEqual(
      [],
    );
    const fresh = await db
      .selectFrom('subscribers')
      .select('tracking_enabled')
      .where('email', '=', 'new@example.test')
      .executeTakeFirstOrThrow();
    expect(fresh.tracking_enabled).toBe(false);
    // …and so is a sign-up from the web form.
    expect(
      await requestSignUp(db, { email: email as EmailAddress, segmentIds: [], shown: {} }, cli, 0),
    ).toMatchObject({
      outcome: 'suppressed',
    });
    expect(await rowsNaming(db, email, id)).toEqual([]);
  });

  it('recap subscriber export / erase and a refused re-import, as child processes', async () => {
    const dir = tempWorkdir();
    const env = {
      RECAP_DATA_DIR: path.join(dir, 'data'),
      RECAP_OUTBOX_DIR: path.join(dir, 'outbox'),
      DATABASE_URL: test.url,
    };
    const file = path.join(dir, 'list.csv');
    // The segment comes with the example story (the server database may hold others already).
    expect((await runCli(['import', 'stories', exampleStoryFile], env)).code).toBe(0);
    writeFileSync(
      file,
      'email,name,segments,tracking\nCarol@Example.test,Carol,Founders & Product Leaders,no\n',
    );
    const imported = await runCli(['import', 'subscribers', file], env);
    expect(imported.stdout).toContain('imported 1 subscriber from');

    const exported = await runCli(['subscriber', 'export', 'carol@example.test'], env);
    expect(exported.code).toBe(0);
    const data = JSON.parse(exported.stdout);
    expect(data.subscriber).toMatchObject({ email: 'carol@example.test', tracking_enabled: false });
    expect(data.consent_log[0]).toMatchObject({ action: 'imported', detail: { tracking: false } });

    const erased = await runCli(['subscriber', 'erase', 'carol@example.test'], env);
    expect(erased.code).toBe(0);
    expect(erased.stdout).toMatch(/^erased 1 subscriber/);
    expect(erased.stdout + erased.stderr).not.toContain('carol');
    const refused = await runCli(['import', 'subscribers', file], env);
    expect(refused.code).toBe(0);
    expect(refused.stderr).toContain(
      "carol@example.test was erased at the person's request (recap subscriber erase): not imported",
    );
    expect(refused.stdout).toContain('imported 0 subscribers');
  }, 240_000);
});
