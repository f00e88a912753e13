import { randomBytes } from 'node:crypto';
import { type App, assembleApp } from '../../src/cli/app.ts';
import { loadConfig } from '../../src/config.ts';
import { listSegments, upsertStories } from '../../src/stories/story.repository.ts';
import type { Story } from '../../src/stories/story.ts';
import type { TestDatabase } from '../support/database.ts';

export const WEEK = '2026-W47';
export const TEST_RECIPIENT = 'editor@example.com';

const topics = [
  ['Open model tops coding benchmark', 'Reuters'],
  ['Chip export rules tightened again', 'Bloomberg'],
  ['Startup raises for agent tooling', 'TechCrunch'],
  ['New EU guidance on model audits', 'Politico'],
  ['Benchmark contamination study', 'Nature'],
  ['Cloud prices for inference fall', 'The Verge'],
] as const;

/** Six distinct stories of the week 2026-W47 in two segments, each with a full TL;DR. */
export function weekStories(): Story[] {
  return topics.map(([title, source], i) => ({
    id: `story-${i + 1}`,
    title,
    url: `https://news${i + 1}.example.com/articles/${i + 1}`,
    canonicalUrl: `https://news${i + 1}.example.com/articles/${i + 1}`,
    source: { name: source, url: `https://news${i + 1}.example.com` },
    region: 'US',
    publishedAt: new Date(Date.UTC(2026, 10, 16 + i, 9)),
    collectedAt: null,
    audiences: i % 2 === 0 ? ['Engineers & Developers'] : ['Engineers & Developers', 'Policy & Legal'],
    tldr: {
      whatChanged: `${title}: what changed.`,
      whyItMatters: 'It changes what teams can build this quarter.',
      whatToDoNext: 'Read the original and try it on your own workload.',
    },
    keyTakeaways: ['First takeaway.', 'Second takeaway.'],
    implications: [{ prediction: 'More of this next month.', rationale: 'Costs keep falling.' }],
    timeline: [],
    related: [],
  }));
}

/** Stories, segments and a few active subscribers following them. */
export async function seedWeek(t: TestDatabase): Promise<void> {
  await t.db.transaction().execute((trx) => upsertStories(trx, weekStories()));
  const segments = await listSegments(t.db);
  const subscribers = await t.db
    .insertInto('subscribers')
    .values(
      Array.from({ length: 4 }, (_, i) => ({ email: `reader${i}@example.com`, status: 'active' as const })),
    )
    .returning('id')
    .execute();
  await t.db
    .insertInto('subscriptions')
    .values(
      subscribers.flatMap((s, i) =>
        segments.slice(0, i % 2 === 0 ? 1 : 2).map((g) => ({ subscriber_id: s.id, segment_id: g.id })),
      ),
    )
    .execute();
}

/** An App over the test database, its mail going to `smtpUrl`. */
export function testApp(t: TestDatabase, env: Record<string, string> = {}): App {
  const config = loadConfig(
    {
      NODE_ENV: 'test',
      RECAP_SECRET: randomBytes(24).toString('base64url'),
      RECAP_TZ: 'UTC',
      PUBLIC_URL: 'http://127.0.0.1:9',
      TEST_RECIPIENTS: `${TEST_RECIPIENT}, second@example.com`,
      STORIES_PER_SEGMENT: '5',
      MIN_STORIES_PER_SEGMENT: '1',
      ...env,
    },
    { dotenvPath: '/nonexistent/.env' },
  );
  // Closing it closes its mailer only: the test closes its database.
  return assembleApp(config, t.db, t.kind, async () => {});
}
