// How long the editor's analytics take on a year of a large list: the weeks list, the weekly series
// and one issue's stats, beside the goal (< 100 ms each). Builds 52 sent issues × N deliveries (default
// 200,000: 10.4 million deliveries) and about 1.9 events per delivery (~20 million), set-based
// (generate_series), through the same rollup statement the event writer uses.
//
// PostgreSQL from TEST_DATABASE_URL or DATABASE_URL: the data set lives in its own database
// (recap_bench_dashboard on that server, or --database NAME), kept between runs and rebuilt only when its size differs
// or with --rebuild. Without a URL, an in-memory PGlite with --quick.
// Run: npm run bench -- dashboard [--args --quick | --subscribers N | --rebuild | --keep | --database NAME]
// (--keep times whatever data set is there, e.g. one whose build was interrupted.)
import { cpus, loadavg } from 'node:os';
import { sql } from 'kysely';
import pg from 'pg';
import { connectDatabase } from '../src/db/connect.ts';
import type { Db } from '../src/db/database.ts';
import { loadIssueStats, loadWeeklySeries } from '../src/reports/issue-stats.ts';
import { listIssueSummaries } from '../src/reports/issue-summaries.ts';
import { ensureEventPartitions } from '../src/tracking/event-partitions.ts';
import { withRollups } from '../src/tracking/event-rollups.ts';

const GOAL_MS = 100;
const ISSUES = 52;
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const option = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const baseUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || undefined;
const subscribers = Number(option('--subscribers') ?? (flag('--quick') || !baseUrl ? 10_000 : 200_000));
if (!Number.isInteger(subscribers) || subscribers < 100) {
  console.error('--subscribers: expected a whole number of at least 100');
  process.exit(2);
}

const databaseName = option('--database') ?? 'recap_bench_dashboard';
if (!/^[a-z_][a-z0-9_]*$/.test(databaseName)) {
  console.error('--database: expected a lower-case database name');
  process.exit(2);
}

async function benchDatabaseUrl(url: string): Promise<string> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [databaseName]);
  if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${databaseName}`);
  await admin.end();
  const target = new URL(url);
  target.pathname = `/${databaseName}`;
  return target.toString();
}

/** Monday 08:00 UTC of each of the 52 weeks ending with 2026-W48. */
function sendTimes(): Array<{ week: string; at: Date }> {
  const lastMonday = Date.UTC(2026, 10, 23, 8);
  return Array.from({ length: ISSUES }, (_, i) => {
    const at = new Date(lastMonday - (ISSUES - 1 - i) * 7 * 86_400_000);
    return { week: isoWeek(at), at };
  });
}

function isoWeek(date: Date): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

async function seeded(db: Db): Promise<boolean> {
  const row = await sql<{ issues: string; subscribers: string }>`
    SELECT (SELECT count(*) FROM issues) AS issues, (SELECT count(*) FROM subscribers) AS subscribers`.execute(
    db,
  );
  return Number(row.rows[0]?.issues) === ISSUES && Number(row.rows[0]?.subscribers) === subscribers;
}

async function seed(db: Db): Promise<void> {
  const log = (line: string) => console.error(`  ${new Date().toISOString().slice(11, 19)} ${line}`);
  await sql`TRUNCATE issues, subscribers, segments, stories, consent_log RESTART IDENTITY CASCADE`.execute(
    db,
  );
  await sql`INSERT INTO subscribers (email) SELECT 'reader' || i || '@example.com' FROM generate_series(1, ${subscribers}) i`.execute(
    db,
  );
  await sql`
    INSERT INTO consent_log (subscriber_id, action, occurred_at, detail)
    SELECT id, 'signup-confirmed', timestamptz '2025-06-01', '{}' FROM subscribers`.execute(db);
  const times = sendTimes();
  for (let month = new Date(times[0]?.at as Date); month <= new Date('2026-12-31'); ) {
    await ensureEventPartitions(db, month, 0);
    month = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1));
  }
  for (const [index, { week, at }] of times.entries()) {
    const issue = await db
      .insertInto('issues')
      .values({
        week,
        status: 'sent',
        built_at: at,
        send_started_at: at,
        send_finished_at: new Date(at.getTime() + 3_600_000),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await sql`
      INSERT INTO issue_links (issue_id, position, url)
      SELECT ${issue.id}, p, 'https://example.com/' || ${week}::text || '/' || p FROM generate_series(0, 11) p`.execute(
      db,
    );
    // Deliveries: three segment sets, 2 % bounced, 1 % failed, 5 % untracked.
    await sql`
      INSERT INTO deliveries (issue_id, subscriber_id, segment_key, status, message_id, sent_at, tracked)
      SELECT ${issue.id}, s, CASE s % 3 WHEN 0 THEN 'builders' WHEN 1 THEN 'founders' ELSE 'builders+founders' END,
        CASE WHEN s % 50 = 0 THEN 'bounced' WHEN s % 97 = 0 THEN 'failed' ELSE 'sent' END,
        '<' || ${issue.id}::int || '.' || s || '@bench>', ${at.toISOString()}::timestamptz + (s % 3600) * interval '1 second',
        s % 20 <> 0
      FROM generate_series(1, ${subscribers}) s`.execute(db);
    // Events through the writer's rollup statement: ~1.4 opens (a fifth of them machines') and ~0.5
    // clicks (a tenth scanners') per delivery, within three days of the send.
    await withRollups(sql`
      INSERT INTO tracking_events (kind, issue_id, subscriber_id, link_position, class, reason, user_agent, occurred_at)
      SELECT e.kind, ${issue.id}, e.s, e.link, e.class, 'bench', 'Mozilla/5.0 bench',
        ${at.toISOString()}::timestamptz + ((e.s * 37 + e.n * 7919) % 259200) * interval '1 second'
      FROM (
        SELECT 'open' AS kind, s, n, NULL::int AS link,
          CASE WHEN s % 5 = 0 THEN 'machine' WHEN s % 89 = 0 THEN 'unknown' ELSE 'human' END AS class
        FROM generate_series(1, ${subscribers}) s, generate_series(1, 2) n
        WHERE (s * 7 + n + ${index}) % 10 < 7
        UNION ALL
        SELECT 'click', s, n, (s + n + ${index}) % 12,
          CASE WHEN s % 11 = 0 THEN 'scanner' ELSE 'human' END
        FROM generate_series(1, ${subscribers}) s, generate_series(1, 2) n
        WHERE (s + n * 3 + ${index}) % 8 < 2
      ) e
      RETURNING issue_id, subscriber_id, kind, class, link_position, 1 AS delta`).execute(db);
    // Unsubscribes (0.2 %) naming the issue, a day after the send.
    await sql`
      INSERT INTO consent_log (subscriber_id, action, occurred_at, detail)
      SELECT s, 'unsubscribe', ${at.toISOString()}::timestamptz + interval '1 day', jsonb_build_object('issueId', ${issue.id}::int)
      FROM generate_series(1, ${subscribers}) s WHERE (s + ${index} * 13) % 500 = 0`.execute(db);
    if (index % 4 === 3 || index === ISSUES - 1) log(`${index + 1}/${ISSUES} issues`);
  }
  log('VACUUM ANALYZE');
  await sql`VACUUM ANALYZE`.execute(db);
}

const url = baseUrl ? await benchDatabaseUrl(baseUrl) : undefined;
const handle = await connectDatabase({ databaseUrl: url, dataDir: 'memory://' });
const { db } = handle;
try {
  let seedSeconds: number | null = null;
  if (flag('--rebuild') || (!flag('--keep') && !(await seeded(db)))) {
    console.error(
      `building ${ISSUES} issues × ${subscribers.toLocaleString('en')} deliveries (about ${((ISSUES * subscribers * 1.9) / 1e6).toFixed(1)} million events)…`,
    );
    const start = performance.now();
    await seed(db);
    seedSeconds = (performance.now() - start) / 1000;
  }
  const counts = await sql<{ deliveries: string; events: string }>`
    SELECT (SELECT count(*) FROM deliveries) AS deliveries, (SELECT count(*) FROM tracking_events) AS events`.execute(
    db,
  );
  const latestRow = await sql<{ week: string }>`
    SELECT week FROM issues i WHERE EXISTS (SELECT 1 FROM issue_delivery_rollups r WHERE r.issue_id = i.id)
    ORDER BY week DESC LIMIT 1`.execute(db);
  const latest = latestRow.rows[0]?.week ?? (sendTimes().at(-1)?.week as string);
  const issueCount = Number(
    (await sql<{ n: string }>`SELECT count(DISTINCT issue_id) AS n FROM issue_delivery_rollups`.execute(db))
      .rows[0]?.n,
  );

  const time = async (run: () => Promise<unknown>) => {
    await run();
    const samples: number[] = [];
    for (let i = 0; i < 7; i++) {
      const start = performance.now();
      await run();
      samples.push(performance.now() - start);
    }
    return samples.sort((a, b) => a - b)[3] as number;
  };
  const rows: Array<[string, number]> = [
    [`weeks list (listIssueSummaries, up to ${ISSUES} issues)`, await time(() => listIssueSummaries(db))],
    ['weekly series (loadWeeklySeries, 12 weeks)', await time(() => loadWeeklySeries(db, 12))],
    [
      `weekly series (loadWeeklySeries, up to ${ISSUES} weeks)`,
      await time(() => loadWeeklySeries(db, ISSUES)),
    ],
    [
      `one issue's stats (loadIssueStats ${latest}: totals, 3 segment sets, 12 links)`,
      await time(() => loadIssueStats(db, latest)),
    ],
  ];
  const load = loadavg().map((n) => n.toFixed(2));
  console.log(
    `\n${handle.kind}, ${issueCount} sent issues × ${subscribers.toLocaleString('en')} deliveries = ${Number(counts.rows[0]?.deliveries).toLocaleString('en')} deliveries, ${Number(counts.rows[0]?.events).toLocaleString('en')} tracking events${seedSeconds === null ? ' (data set reused)' : ` (built in ${seedSeconds.toFixed(0)} s)`}; ${cpus().length} cores, load average ${load.join(' ')}\n`,
  );
  console.log(`| query | median of 7 | goal |`);
  console.log('| --- | ---: | --- |');
  for (const [name, ms] of rows)
    console.log(`| ${name} | ${ms.toFixed(1)} ms | < ${GOAL_MS} ms ${ms < GOAL_MS ? '✓' : '✗'} |`);
} finally {
  await handle.close();
}
