// How long the dashboard's queries take on a large list: N subscribers, 8 sent issues, about 1.5 opens
// and 0.4 clicks per delivery. Uses DATABASE_URL when set, else an in-memory PGlite.
// Run: npx tsx bench/dashboard-stats.ts [subscribers]
import { sql } from 'kysely';
import { connectDatabase } from '../src/db/connect.ts';
import { loadIssueStats, loadWeeklySeries } from '../src/reports/issue-stats.ts';
import { listIssueSummaries } from '../src/reports/issue-summaries.ts';

const subscribers = Number(process.argv[2] ?? 50_000);
const weeks = [
  '2026-W40',
  '2026-W41',
  '2026-W42',
  '2026-W43',
  '2026-W44',
  '2026-W45',
  '2026-W46',
  '2026-W47',
];
const handle = await connectDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: 'memory://' });
const { db } = handle;
try {
  if (handle.kind === 'postgres') {
    await sql`TRUNCATE issues, subscribers, segments, stories RESTART IDENTITY CASCADE`.execute(db);
  }
  const seedStart = performance.now();
  await sql`INSERT INTO subscribers (email) SELECT 'reader' || i || '@example.com' FROM generate_series(1, ${subscribers}) i`.execute(
    db,
  );
  for (const [index, week] of weeks.entries()) {
    const sendAt = new Date(Date.UTC(2026, 9, 5 + index * 7, 8));
    await db
      .insertInto('issues')
      .values({ week, status: 'sent', built_at: sendAt, send_started_at: sendAt })
      .execute();
  }
  await sql`
    INSERT INTO deliveries (issue_id, subscriber_id, segment_key, status, message_id)
    SELECT i.id, s.id, CASE s.id % 3 WHEN 0 THEN 'builders' WHEN 1 THEN 'founders' ELSE 'builders+founders' END,
      CASE WHEN s.id % 50 = 0 THEN 'bounced' WHEN s.id % 97 = 0 THEN 'failed' ELSE 'sent' END,
      '<' || i.id || '.' || s.id || '@bench>'
    FROM issues i CROSS JOIN subscribers s`.execute(db);
  await sql`
    INSERT INTO issue_links (issue_id, position, url)
    SELECT i.id, p, 'https://example.com/story/' || p FROM issues i CROSS JOIN generate_series(0, 11) p`.execute(
    db,
  );
  await sql`
    INSERT INTO tracking_events (kind, issue_id, subscriber_id, class, link_position)
    SELECT 'open', d.issue_id, d.subscriber_id, CASE WHEN d.subscriber_id % 5 = 0 THEN 'machine' ELSE 'human' END, NULL
    FROM deliveries d, generate_series(1, 2) n WHERE (d.subscriber_id + n + d.issue_id) % 4 <> 0`.execute(db);
  await sql`
    INSERT INTO tracking_events (kind, issue_id, subscriber_id, class, link_position)
    SELECT 'click', d.issue_id, d.subscriber_id, CASE WHEN d.subscriber_id % 11 = 0 THEN 'scanner' ELSE 'human' END, d.subscriber_id % 12
    FROM deliveries d WHERE (d.subscriber_id + d.issue_id) % 5 < 2`.execute(db);
  await sql`
    INSERT INTO consent_log (subscriber_id, action, occurred_at, detail)
    SELECT id, 'unsubscribe', timestamptz '2026-11-02 12:00Z', '{}' FROM subscribers WHERE id % 400 = 0`.execute(
    db,
  );
  await sql`ANALYZE`.execute(db);
  const seeded = (performance.now() - seedStart) / 1000;
  const events = await db
    .selectFrom('tracking_events')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();

  const time = async (run: () => Promise<unknown>) => {
    await run();
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      await run();
      samples.push(performance.now() - start);
    }
    return samples.sort((a, b) => a - b)[2] as number;
  };
  const rows: Array<[string, number]> = [
    [
      'loadIssueStats (one issue: totals, 3 segment sets, 12 links)',
      await time(() => loadIssueStats(db, '2026-W47')),
    ],
    ['loadWeeklySeries (8 weeks)', await time(() => loadWeeklySeries(db, 12))],
    ['listIssueSummaries (weeks list)', await time(() => listIssueSummaries(db))],
  ];
  console.log(
    `\n${handle.kind}, ${subscribers.toLocaleString('en')} subscribers × ${weeks.length} issues = ${(subscribers * weeks.length).toLocaleString('en')} deliveries, ${Number(events.n).toLocaleString('en')} tracking events (seeded in ${seeded.toFixed(1)} s)\n`,
  );
  console.log('| query | median of 5 |');
  console.log('| --- | ---: |');
  for (const [name, ms] of rows) console.log(`| ${name} | ${ms.toFixed(0)} ms |`);
} finally {
  await handle.close();
}
