// What deciding each reader's own order adds to the audience freeze: N readers (default 100,000) who
// received the last 12 issues, 10 % of them with human clicks (and 1 % with votes) on earlier stories.
// Times startSend of one issue without personal order and of another with it (same audience), and
// prints the counts the freeze decided.
//
// PostgreSQL from TEST_DATABASE_URL or DATABASE_URL; the data lives in its own database
// (recap_bench_personal_order), rebuilt on every run.
// Run: npm run bench -- personal-order-freeze [--args --readers N]
import { cpus } from 'node:os';
import { sql } from 'kysely';
import pg from 'pg';
import { weekBounds } from '../src/calendar/iso-week.ts';
import { loadConfig } from '../src/config.ts';
import { connectDatabase } from '../src/db/connect.ts';
import type { Db } from '../src/db/database.ts';
import { personalOrderPlan } from '../src/delivery/send-issue.ts';
import { startSend } from '../src/delivery/start-send.ts';
import type { IssueContent, IssueStory } from '../src/issues/issue-content.ts';
import { issueLinks } from '../src/render/issue-links.ts';
import type { Segment } from '../src/stories/segment.ts';
import { upsertStories } from '../src/stories/story.repository.ts';
import { canonicalizeUrl, type Story } from '../src/stories/story.ts';
import { checkStoredAddresses } from '../src/subscribers/address-check.ts';

const argv = process.argv.slice(2);
const option = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const readers = Number(option('--readers') ?? 100_000);
const baseUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
if (!baseUrl) {
  console.error('needs PostgreSQL: set TEST_DATABASE_URL or DATABASE_URL');
  process.exit(2);
}
const DATABASE = 'recap_bench_personal_order';
const SEGMENTS = ['Engineers & Developers', 'Researchers', 'Founders & Product Leaders', 'Investors'];
const SOURCES = [
  'Reuters',
  'The Verge',
  'Wired',
  'Ars Technica',
  'TechCrunch',
  'Bloomberg',
  'FT',
  'MIT News',
];
const TOPICS = ['Nimbus', 'Orion', 'Vega', 'Lyra', 'Atlas', 'Helix', 'Quasar', 'Zephyr', 'Aurora', 'Cobalt'];
const PER_SEGMENT = 9;
const log = (line: string) => console.error(`  ${new Date().toISOString().slice(11, 19)} ${line}`);

async function freshDatabase(url: string): Promise<string> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE}`);
  await admin.query(`CREATE DATABASE ${DATABASE}`);
  await admin.end();
  const target = new URL(url);
  target.pathname = `/${DATABASE}`;
  return target.toString();
}

function weekOf(n: number): string {
  return `2026-W${String(n).padStart(2, '0')}`;
}

/** Issue `week` (36..49): PER_SEGMENT stories per segment, stored, with its items and content. */
async function seedIssue(db: Db, weekNumber: number, segments: Segment[], status: 'sent' | 'approved') {
  const week = weekOf(weekNumber);
  const { start, end } = weekBounds({ year: 2026, week: weekNumber }, 'UTC');
  const stories: Story[] = [];
  const sections = segments.map((segment, s) => ({
    segment,
    skipped: false,
    skipReason: null,
    stories: Array.from({ length: PER_SEGMENT }, (_, n): IssueStory => {
      const id = `${week}-${segment.slug}-${n}`;
      const topic = TOPICS[(weekNumber * 7 + s * 3 + n) % TOPICS.length] as string;
      const url = `https://news.example.com/${id}`;
      const story: Story = {
        id,
        title: `Lab ships ${topic} update ${weekNumber}.${s}.${n}`,
        canonicalUrl: canonicalizeUrl(url),
        url,
        source: { name: SOURCES[(weekNumber + s + n * 3) % SOURCES.length] as string, url: null },
        region: null,
        publishedAt: new Date(start.getTime() + 86_400_000),
        collectedAt: null,
        audiences: [segment.name],
        tldr: {
          whatChanged: `The ${topic} release is out.`,
          whyItMatters: 'It matters.',
          whatToDoNext: null,
        },
        keyTakeaways: [],
        implications: [],
        timeline: [],
        related: [],
      };
      stories.push(story);
      return {
        story,
        score: 1 - n / 20,
        fallback: false,
        alsoCoveredBy: [],
        reasons: [],
        scoreBreakdown: {},
      };
    }),
  }));
  await db.transaction().execute((trx) => upsertStories(trx, stories));
  const issue = await db
    .insertInto('issues')
    .values({ week, status })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('issue_items')
    .values(
      sections.flatMap((section) =>
        section.stories.map((item, position) => ({
          issue_id: issue.id,
          segment_id: section.segment.id,
          story_id: item.story.id,
          position,
          score: item.score,
        })),
      ),
    )
    .execute();
  const content: IssueContent = {
    issueId: issue.id,
    week,
    weekStart: start,
    weekEnd: end,
    timeZone: 'UTC',
    sections,
    developing: [],
  };
  return { issueId: issue.id, content };
}

const url = await freshDatabase(baseUrl);
const handle = await connectDatabase({ databaseUrl: url, dataDir: 'memory://' });
const db = handle.db;
const config = loadConfig(
  {
    NODE_ENV: 'production',
    RECAP_SECRET: 'bench-secret-bench-secret-bench-secret-01',
    PUBLIC_URL: 'https://recap.example.test',
    RECAP_FROM_EMAIL: 'recap@news.example.test',
    RECAP_DATA_DIR: '/tmp/recap-bench-personal-order',
  },
  { dotenvPath: '/nonexistent/.env' },
);
try {
  log(`seeding ${readers} readers, 12 sent issues`);
  await upsertStoriesForSegments(db);
  const segments = await db.selectFrom('segments').select(['id', 'name', 'slug']).orderBy('id').execute();
  await sql`
    INSERT INTO subscribers (email, name)
    SELECT 'reader' || i || '@example.test', 'Reader ' || i FROM generate_series(1, ${readers}) AS i
  `.execute(db);
  // Each reader follows one segment, a third of them a second one.
  await sql`
    INSERT INTO subscriptions (subscriber_id, segment_id)
    SELECT s.id, g.id FROM subscribers s JOIN segments g
      ON g.id = (SELECT id FROM segments ORDER BY id OFFSET (s.id % ${segments.length}) LIMIT 1)
      OR (s.id % 3 = 0 AND g.id = (SELECT id FROM segments ORDER BY id OFFSET ((s.id + 1) % ${segments.length}) LIMIT 1))
  `.execute(db);
  for (let n = 36; n <= 47; n++) {
    const earlier = await seedIssue(db, n, segments, 'sent');
    const links = issueLinks(earlier.content);
    await db
      .insertInto('issue_links')
      .values(
        links.map((link) => ({
          issue_id: earlier.issueId,
          position: link.position,
          url: link.url,
          story_id: link.storyId,
          kind: link.kind,
        })),
      )
      .execute();
    // Every reader received it (sent, tracked), keyed by their segment set.
    await sql`
      INSERT INTO deliveries (issue_id, subscriber_id, segment_key, message_id, status, tracked)
      SELECT ${earlier.issueId}, s.id, string_agg(g.slug, '+' ORDER BY g.slug COLLATE "C"),
        '<recap.' || ${earlier.content.week}::text || '.' || s.id || '@news.example.test>', 'sent', true
      FROM subscribers s JOIN subscriptions sub ON sub.subscriber_id = s.id JOIN segments g ON g.id = sub.segment_id
      GROUP BY s.id
    `.execute(db);
    // One reader in ten clicked: in a third of the issues, two or three story links of their segments.
    await sql`
      INSERT INTO event_link_readers (issue_id, link_position, subscriber_id, clicks)
      SELECT DISTINCT ON (l.position, s.id) ${earlier.issueId}, l.position, s.id, 1
      FROM subscribers s
      JOIN subscriptions sub ON sub.subscriber_id = s.id
      JOIN segments g ON g.id = sub.segment_id
      JOIN issue_links l ON l.issue_id = ${earlier.issueId} AND l.kind = 'story'
        AND l.story_id LIKE ${`${earlier.content.week}-`} || g.slug || '-%'
      WHERE s.id % 10 = 0 AND (s.id / 10 + ${n}) % 3 = 0
        AND (hashtext(l.story_id || s.id) & 7) < 2
      ON CONFLICT DO NOTHING
    `.execute(db);
    await sql`
      INSERT INTO story_votes (subscriber_id, story_id, issue_id, vote)
      SELECT s.id, ${`${earlier.content.week}-`} || g.slug || '-' || (s.id % ${PER_SEGMENT}),
        ${earlier.issueId}, CASE WHEN s.id % 200 = 0 THEN -1 ELSE 1 END
      FROM subscribers s JOIN subscriptions sub ON sub.subscriber_id = s.id JOIN segments g ON g.id = sub.segment_id
      WHERE s.id % 100 = 0 AND (s.id / 100 + ${n}) % 4 = 0
      ON CONFLICT DO NOTHING
    `.execute(db);
  }
  await sql`ANALYZE`.execute(db);
  const baseline = await seedIssue(db, 49, segments, 'approved');
  const current = await seedIssue(db, 48, segments, 'approved');
  const clickers = await sql<{
    n: string;
  }>`SELECT count(DISTINCT subscriber_id) AS n FROM event_link_readers`.execute(db);
  log(`${clickers.rows[0]?.n} readers with clicks; freezing`);

  // The first freeze after an import checks every stored address: done before timing either freeze.
  await checkStoredAddresses(db);
  const t0 = performance.now();
  await startSend(db, baseline.issueId, {
    messageIdDomain: 'news.example.test',
    links: issueLinks(baseline.content),
  });
  const plain = performance.now() - t0;
  // The plan renders each segment set's edition once: timed apart.
  const plan = personalOrderPlan(current.content, config);
  let rendering = 0;
  let sets = 0;
  const timedPlan = {
    holdout: plan.holdout,
    sectionsFor: async (key: string) => {
      const started = performance.now();
      const result = await plan.sectionsFor(key);
      rendering += performance.now() - started;
      sets += 1;
      return result;
    },
  };
  const t1 = performance.now();
  await startSend(db, current.issueId, {
    messageIdDomain: 'news.example.test',
    links: issueLinks(current.content),
    personalOrder: timedPlan,
  });
  const personal = performance.now() - t1;
  const counts = await sql<{ order_group: string | null; n: string; ordered: string }>`
    SELECT order_group, count(*) AS n, count(story_order) AS ordered FROM deliveries
    WHERE issue_id = ${current.issueId} GROUP BY 1 ORDER BY 1`.execute(db);
  const version = await sql<{ server_version: string }>`SHOW server_version`.execute(db);
  console.log(
    `PostgreSQL ${version.rows[0]?.server_version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${readers} readers\n`,
  );
  console.log('| freeze | time |');
  console.log('|---|---:|');
  console.log(`| without personal order | ${(plain / 1000).toFixed(2)} s |`);
  console.log(`| with personal order | ${(personal / 1000).toFixed(2)} s |`);
  console.log(`| personal order's share | ${((personal - plain) / 1000).toFixed(2)} s |`);
  console.log(`| of which rendering ${sets} segment sets once each | ${(rendering / 1000).toFixed(2)} s |`);
  console.log('\n| order group | deliveries | with their own order |');
  console.log('|---|---:|---:|');
  for (const row of counts.rows)
    console.log(`| ${row.order_group ?? '(untracked)'} | ${row.n} | ${row.ordered} |`);
} finally {
  await handle.close();
}

/** The segments exist once any story names them: store one placeholder story per segment first. */
async function upsertStoriesForSegments(target: Db): Promise<void> {
  const placeholder = (name: string, i: number): Story => {
    const url = `https://news.example.com/placeholder-${i}`;
    return {
      id: `placeholder-${i}`,
      title: 'Placeholder',
      canonicalUrl: canonicalizeUrl(url),
      url,
      source: { name: 'Example', url: null },
      region: null,
      publishedAt: new Date('2026-01-01T00:00:00Z'),
      collectedAt: null,
      audiences: [name],
      tldr: { whatChanged: null, whyItMatters: null, whatToDoNext: null },
      keyTakeaways: [],
      implications: [],
      timeline: [],
      related: [],
    };
  };
  await target.transaction().execute((trx) => upsertStories(trx, SEGMENTS.map(placeholder)));
}
