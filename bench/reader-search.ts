// How long the editor's Readers page takes on a list of a million: the search by part of an address or
// a name (trigram index), the capped match count, the counts per status, a keyset page deep in the list,
// and the filters, beside the goal (< 100 ms for a search). Loads N subscribers (default 1,000,000)
// with names and 1–2 segments each, set-based (generate_series), then times the same functions the page
// calls; also the index build (what migration 20261207060000 costs on an existing list).
//
// PostgreSQL from TEST_DATABASE_URL or DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test):
// the data set lives in its own database (recap_bench_readers, or --database NAME), kept between runs and
// rebuilt when its size differs or with --rebuild.
// Run: npm run bench -- readers [--args --subscribers N | --rebuild | --database NAME]
import { cpus, loadavg } from 'node:os';
import { sql } from 'kysely';
import pg from 'pg';
import { connectDatabase } from '../src/db/connect.ts';
import type { Db } from '../src/db/database.ts';
import {
  countMatchingReaders,
  countReadersByStatus,
  listReaders,
  noFilter,
  type ReaderFilter,
} from '../src/subscribers/reader-directory.ts';

const GOAL_MS = 100;
const RUNS = 15;
const argv = process.argv.slice(2);
const option = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const baseUrl =
  process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const subscribers = Number(option('--subscribers') ?? 1_000_000);
if (!Number.isInteger(subscribers) || subscribers < 1000) {
  console.error('--subscribers: expected a whole number of at least 1000');
  process.exit(2);
}
const databaseName = option('--database') ?? 'recap_bench_readers';
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

const log = (line: string) => console.error(`  ${new Date().toISOString().slice(11, 19)} ${line}`);

/** N readers: first.last.i@one of 2,000 domains, 40 × 40 names, 1–2 of 5 segments, statuses mixed. */
async function seed(db: Db): Promise<number> {
  log(`loading ${subscribers.toLocaleString('en')} subscribers…`);
  await sql`TRUNCATE subscribers, segments RESTART IDENTITY CASCADE`.execute(db);
  await sql`INSERT INTO segments (name, slug) VALUES
    ('Engineers & Developers', 'engineers-developers'), ('Founders & Product Leaders', 'founders-product-leaders'),
    ('Researchers', 'researchers'), ('Policy & Legal', 'policy-legal'), ('Investors', 'investors')`.execute(
    db,
  );
  // The trigram index is dropped for the load and timed when built again below.
  await sql`DROP INDEX IF EXISTS subscribers_search`.execute(db);
  await sql`
    WITH names AS (
      SELECT string_to_array('ada,alan,grace,edsger,barbara,donald,ken,dennis,margaret,john,linus,guido,bjarne,james,anders,rich,yukihiro,larry,brian,niklaus,tim,vint,radia,frances,katherine,dorothy,hedy,annie,jean,shafi,leslie,butler,fernando,ivan,douglas,edgar,marvin,seymour,judea,yoshua', ',') AS firsts,
             string_to_array('lovelace,turing,hopper,dijkstra,liskov,knuth,thompson,ritchie,hamilton,mccarthy,torvalds,rossum,stroustrup,gosling,hejlsberg,hickey,matsumoto,wall,kernighan,wirth,berners,cerf,perlman,allen,johnson,vaughan,lamarr,easley,sammet,goldwasser,lamport,lampson,corbato,sutherland,engelbart,kay,minsky,papert,pearl,bengio', ',') AS lasts
    )
    INSERT INTO subscribers (email, name, status, tracking_enabled, confirmed_at, created_at, reengagement_sent_at)
    SELECT firsts[1 + i % 40] || '.' || lasts[1 + (i / 40) % 40] || '.' || i || '@mail' || (i % 2000) || '.example',
           initcap(firsts[1 + i % 40]) || ' ' || initcap(lasts[1 + (i / 40) % 40]),
           CASE WHEN i % 50 = 0 THEN 'unsubscribed' WHEN i % 97 = 0 THEN 'bounced' WHEN i % 301 = 0 THEN 'sunset' ELSE 'active' END,
           i % 3 <> 0, now(), now() - make_interval(secs => ${subscribers} - i),
           CASE WHEN i % 211 = 0 THEN now() END
    FROM names, generate_series(1, ${subscribers}) AS i`.execute(db);
  await sql`
    INSERT INTO subscriptions (subscriber_id, segment_id)
    SELECT id, 1 + id % 5 FROM subscribers
    UNION ALL
    SELECT id, 1 + (id + 2) % 5 FROM subscribers WHERE id % 2 = 0`.execute(db);
  log('building the trigram index…');
  const started = performance.now();
  await sql`CREATE INDEX subscribers_search ON subscribers
    USING gin (lower(email || ' ' || coalesce(name, '')) gin_trgm_ops)`.execute(db);
  const indexMs = performance.now() - started;
  await sql`ANALYZE subscribers, subscriptions`.execute(db);
  log(`index built in ${(indexMs / 1000).toFixed(1)} s`);
  return indexMs;
}

async function time(run: () => Promise<unknown>): Promise<{ median: number; min: number; max: number }> {
  await run();
  await run();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return {
    median: times[Math.floor(times.length / 2)] ?? 0,
    min: times[0] ?? 0,
    max: times[times.length - 1] ?? 0,
  };
}

const ms = (n: number) => `${n.toFixed(1)} ms`;

// Long: the measured cases, one line each, then the table.
async function main(): Promise<void> {
  const url = await benchDatabaseUrl(baseUrl);
  const handle = await connectDatabase({ databaseUrl: url, dataDir: 'unused' });
  const db = handle.db;
  try {
    const stored = await sql<{ n: string }>`SELECT count(*) AS n FROM subscribers`.execute(db);
    let indexMs: number | null = null;
    if (argv.includes('--rebuild') || Number(stored.rows[0]?.n) !== subscribers) indexMs = await seed(db);
    const middle = await sql<{
      id: string;
    }>`SELECT id FROM subscribers ORDER BY id LIMIT 1 OFFSET ${Math.floor(subscribers / 2)}`.execute(db);
    const search = (text: string, extra: Partial<ReaderFilter> = {}): ReaderFilter => ({
      ...noFilter,
      search: text,
      ...extra,
    });
    const page =
      (filter: ReaderFilter, cursor: Parameters<typeof listReaders>[2] = null) =>
      () =>
        listReaders(db, filter, cursor, 50);
    const cases: Array<[string, () => Promise<unknown>, boolean]> = [
      ['search: part of one address (`.123457@`)', page(search('.123457@')), true],
      ['search: a surname (`hopper`, 1 in 40)', page(search('hopper')), true],
      ['search: a full name (`grace hopper`, 1 in 1,600)', page(search('grace hopper')), true],
      ['search: a rare name part (`yukihiro matsu`)', page(search('yukihiro matsu')), true],
      ['search: no match (`zzzqqq`)', page(search('zzzqqq')), true],
      ['search: matches everyone (`example`)', page(search('example')), true],
      [
        'search + segment + status (`lovelace`, Researchers, active)',
        page(search('lovelace', { segmentId: 3, status: 'active' })),
        true,
      ],
      [
        'count of matches, capped at 10,000 (`hopper`)',
        () => countMatchingReaders(db, search('hopper'), 10_000),
        true,
      ],
      [
        'count of matches, capped at 10,000 (`grace hopper`)',
        () => countMatchingReaders(db, search('grace hopper'), 10_000),
        true,
      ],
      ['first page, no filter', page(noFilter), false],
      ['keyset page in the middle of the list', page(noFilter, { after: middle.rows[0]?.id ?? '1' }), false],
      ['filter: segment + not tracked', page({ ...noFilter, segmentId: 2, tracked: false }), false],
      ['filter: asked "still want it?"', page({ ...noFilter, sunset: 'asked' }), false],
      ['filter: paused for inactivity (status sunset)', page({ ...noFilter, sunset: 'paused' }), false],
      ['counts per status (whole list)', () => countReadersByStatus(db), false],
    ];
    console.log(
      `${subscribers.toLocaleString('en')} subscribers on ${url.replace(/\/\/[^@]*@/, '//')}; ${cpus().length} × ${cpus()[0]?.model}; load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}; median of ${RUNS} runs after 2 warm-ups\n`,
    );
    console.log('| query | median | min–max | goal < 100 ms |');
    console.log('|---|--:|--:|:-:|');
    for (const [name, run, searchCase] of cases) {
      const t = await time(run);
      console.log(
        `| ${name} | ${ms(t.median)} | ${ms(t.min)}–${ms(t.max)} | ${searchCase ? (t.median < GOAL_MS ? 'yes' : 'NO') : '—'} |`,
      );
    }
    if (indexMs !== null)
      console.log(
        `\nTrigram index build over ${subscribers.toLocaleString('en')} subscribers: ${(indexMs / 1000).toFixed(1)} s`,
      );
  } finally {
    await handle.close();
  }
}

await main();
