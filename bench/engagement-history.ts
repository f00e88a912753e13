/**
 * How long the build's engagement history takes to load (src/issues/engagement.repository.ts): 8 sent
 * issues, 5 segments, 7 stories per section, N readers (default 20,000) each delivered every issue (a
 * third follow two segments), a quarter of them clicking one story per issue, a tenth voting. Built
 * set-based in a fresh database (TEST_DATABASE_URL, else an in-memory PGlite), timed 4 times.
 * Run: npm run bench -- engagement [--args 100000]
 */
import { loadavg } from 'node:os';
import { sql } from 'kysely';
import { loadEngagement } from '../src/issues/engagement.repository.ts';
import { createTestDatabase } from '../test/support/database.ts';

const database = await createTestDatabase();
const { db } = database;
const readers = Number(process.argv.slice(2).find((arg) => /^\d+$/.test(arg)) ?? 20000);
await sql`INSERT INTO segments (name, slug) SELECT 'Segment ' || g, 'segment-' || g FROM generate_series(1, 5) g`.execute(
  db,
);
await sql`INSERT INTO stories (id, title, url, canonical_url, source_name, published_at, tldr_what_changed)
  SELECT 's' || g, 'Nimbus' || (g % 40) || ' Labs ships Quasar' || (g % 17), 'https://n.example/' || g, 'https://n.example/' || g,
    'Outlet ' || (g % 12), now() - interval '30 days', 'Orbit' || (g % 23) || ' news.'
  FROM generate_series(1, 400) g`.execute(db);
await sql`INSERT INTO issues (week, status) SELECT '2026-W' || (39 + g), 'sent' FROM generate_series(1, 8) g`.execute(
  db,
);
await sql`INSERT INTO issue_items (issue_id, segment_id, story_id, position, score, also_covered_by, reasons, score_breakdown)
  SELECT i.id, s.id, 's' || ((i.id * 50 + s.id * 7 + p) % 400 + 1), p, 0.5, '[]', '[]', '{}'
  FROM issues i, segments s, generate_series(0, 6) p ON CONFLICT DO NOTHING`.execute(db);
await sql`INSERT INTO issue_links (issue_id, position, url, story_id, kind)
  SELECT issue_id, (row_number() OVER (PARTITION BY issue_id ORDER BY story_id))::int - 1, 'https://n.example/' || story_id, story_id, 'story'
  FROM (SELECT DISTINCT issue_id, story_id FROM issue_items) x`.execute(db);
await sql`INSERT INTO subscribers (email) SELECT 'r' || g || '@example.com' FROM generate_series(1, ${readers}) g`.execute(
  db,
);
await sql`INSERT INTO deliveries (issue_id, subscriber_id, segment_key, status, message_id)
  SELECT i.id, s.id, 'segment-' || (s.id % 5 + 1) || CASE WHEN s.id % 3 = 0 THEN '+segment-' || ((s.id + 1) % 5 + 1) ELSE '' END, 'sent', '<' || i.id || '.' || s.id || '@x>'
  FROM issues i, subscribers s`.execute(db);
await sql`INSERT INTO event_link_readers (issue_id, link_position, subscriber_id, clicks)
  SELECT d.issue_id, (d.subscriber_id % 20)::int, d.subscriber_id, 1 FROM deliveries d WHERE d.subscriber_id % 4 = 0`.execute(
  db,
);
await sql`INSERT INTO story_votes (subscriber_id, story_id, issue_id, vote)
  SELECT DISTINCT ON (d.subscriber_id, l.story_id) d.subscriber_id, l.story_id, d.issue_id, CASE WHEN d.subscriber_id % 2 = 0 THEN 1 ELSE -1 END
  FROM deliveries d JOIN issue_links l ON l.issue_id = d.issue_id AND l.position = (d.subscriber_id % 20)::int WHERE d.subscriber_id % 10 = 1`.execute(
  db,
);
await sql`ANALYZE`.execute(db);
const counts = await sql<{ d: string; c: string; v: string }>`
  SELECT (SELECT count(*) FROM deliveries) d, (SELECT count(*) FROM event_link_readers) c, (SELECT count(*) FROM story_votes) v`.execute(
  db,
);
const times: number[] = [];
let features = 0;
for (let i = 0; i < 4; i++) {
  const started = performance.now();
  const engagement = await loadEngagement(db, '2026-W48');
  times.push(performance.now() - started);
  features = Object.values(engagement?.bySegment ?? {}).reduce(
    (n, s) => n + Object.keys(s.features).length,
    0,
  );
}
await database.close();
const row = counts.rows[0] ?? { d: '0', c: '0', v: '0' };
process.stdout.write(
  [
    `Engagement history load (${database.kind === 'postgres' ? 'PostgreSQL' : 'PGlite'}, load average ${loadavg()[0]?.toFixed(1)}, 4 runs)`,
    '',
    '| readers | deliveries | click rows | votes | segment features | load (each run) |',
    '|--:|--:|--:|--:|--:|--:|',
    `| ${readers.toLocaleString('en-US')} | ${Number(row.d).toLocaleString('en-US')} | ${Number(row.c).toLocaleString('en-US')} | ${Number(row.v).toLocaleString('en-US')} | ${features} | ${times.map((t) => `${t.toFixed(0)} ms`).join(', ')} |`,
    '',
  ].join('\n'),
);
