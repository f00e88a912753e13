import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { up as indexedLinkPositions } from '../../src/db/migrations/20261207043000_indexed_link_positions.ts';
import { sendIssue } from '../../src/delivery/send-issue.ts';
import { buildIssue } from '../../src/issues/build-issue.ts';
import { approveIssue } from '../../src/issues/issue-lifecycle.ts';
import type { Mailer, OutgoingMessage } from '../../src/mail/mailer.ts';
import { linkPosition } from '../../src/render/issue-links.ts';
import { loadStoriesByIds } from '../../src/stories/story.repository.ts';
import { signClickTokens } from '../../src/tracking/token.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { createTestApp, SECRET } from '../web/web-fixtures.ts';

const TOKEN = 'ingest-token-0123456789-abcdefghij';
const WEEK = '2026-W48';

let app: App;
let server: RunningServer;

beforeAll(async () => {
  app = await createTestApp({ INGEST_TOKEN: TOKEN, MIN_STORIES_PER_SEGMENT: '1' });
  server = await startServer(app, { port: 0, host: '127.0.0.1', ackAfterWrite: true });
});
afterAll(async () => {
  await server?.close();
  await app?.close();
});

/** The position the old code gave a URL: the first 31 bits of its SHA-256. */
const hashedPosition = (url: string) => createHash('sha256').update(url).digest().readUInt32BE(0) >>> 1;

/** Two different URLs with the same 31-bit hashed position (birthday search, tens of thousands of tries). */
function collidingUrls(): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const url = `https://example.org/related/${i}`;
    const position = hashedPosition(url);
    const earlier = seen.get(position);
    if (earlier !== undefined) return [earlier, url];
    seen.set(position, url);
  }
}

const story = (id: string, related: Array<{ title: string; url: string }>) => ({
  id,
  title: `Story ${id} with related links`,
  url: `https://example.com/${id}`,
  source: { name: 'Outlet' },
  publishedAt: '2026-11-25T09:30:00Z',
  audiences: ['Engineers'],
  related,
});

function push(body: unknown) {
  return fetch(`${server.url}/api/stories`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  });
}

describe('link positions cannot collide', () => {
  it('two related URLs that collide under the old hash: build, approve and send succeed, each click reaches its own URL', async () => {
    const [first, second] = collidingUrls();
    expect(hashedPosition(first)).toBe(hashedPosition(second));
    const pushed = await push([
      story('collide', [
        { title: 'First', url: first },
        { title: 'Second', url: second },
      ]),
    ]);
    expect(pushed.status).toBe(200);

    const segment = await app.db
      .selectFrom('segments')
      .select('id')
      .where('name', '=', 'Engineers')
      .executeTakeFirstOrThrow();
    const reader = await app.db
      .insertInto('subscribers')
      .values({ email: 'reader@example.test', status: 'active' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await app.db
      .insertInto('subscriptions')
      .values({ subscriber_id: reader.id, segment_id: segment.id })
      .execute();

    await buildIssue(app.db, {
      week: WEEK,
      timeZone: 'UTC',
      storiesPerSegment: 7,
      minStoriesPerSegment: 1,
      now: new Date('2026-11-30T07:00:00Z'),
    });
    await approveIssue(app.db, WEEK, { now: new Date('2026-11-30T07:10:00Z'), timeZone: 'UTC' });
    const messages: OutgoingMessage[] = [];
    const mailer: Mailer = {
      async send(message) {
        messages.push(message);
        return { ok: true };
      },
      async close() {},
    };
    const summary = await sendIssue({ ...app, mailer }, WEEK, { wait: true });
    expect(summary.fatal ?? null).toBeNull();
    expect(messages).toHaveLength(1);

    const tokens = [...(messages[0]?.html ?? '').matchAll(/http:\/\/recap\.test\/c\/([A-Za-z0-9._-]+)/g)].map(
      (match) => match[1] as string,
    );
    const destinations = new Map<string, string>();
    for (const token of new Set(tokens)) {
      const response = await fetch(`${server.url}/c/${token}`, { redirect: 'manual' });
      const location = response.headers.get('location');
      if (response.status === 302 && location) destinations.set(token, location);
    }
    const reached = [...destinations.values()];
    expect(reached).toContain(first);
    expect(reached).toContain(second);
    // Every token reaches one URL and no two tokens share one: no link leads to another's page.
    expect(new Set(reached).size).toBe(reached.length);
  });

  it('refuses a story with more than 10 related links with a 422 naming the limit', async () => {
    const related = Array.from({ length: 11 }, (_, i) => ({
      title: `R${i}`,
      url: `https://example.org/r/${i}`,
    }));
    const response = await push([story('too-many', related)]);
    expect(response.status).toBe(422);
    expect(await response.text()).toMatch(/at most 10/);
    const stored = await app.db.selectFrom('stories').select('id').where('id', '=', 'too-many').execute();
    expect(stored).toEqual([]);
  });

  it('a story stored before the cap keeps its first ten related links', async () => {
    const related = Array.from({ length: 12 }, (_, i) => ({
      title: `R${i}`,
      url: `https://example.org/old/${i}`,
    }));
    await app.db
      .insertInto('stories')
      .values({
        id: 'stored-before',
        title: 'Stored before the cap',
        url: 'https://example.com/stored-before',
        canonical_url: 'https://example.com/stored-before',
        source_name: 'Outlet',
        published_at: new Date('2026-11-24T09:00:00Z'),
        related: JSON.stringify(related),
      })
      .execute();
    const [loaded] = await loadStoriesByIds(app.db, ['stored-before']);
    expect(loaded?.related.map((r) => r.url)).toEqual(related.slice(0, 10).map((r) => r.url));
  });

  it('issues sent before keep their hashed positions (and the re-hashed fallback); unsent snapshots move to indexes', async () => {
    const reader = await app.db
      .insertInto('subscribers')
      .values({ email: 'old-reader@example.test', status: 'active' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const url = 'https://example.net/old-story';
    const issueOf = async (week: string, status: 'sent' | 'approved', snapshot: object) =>
      (
        await app.db
          .insertInto('issues')
          .values({ week, status, content_snapshot: JSON.stringify(snapshot) })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
    const oldIssue = await issueOf('2026-W40', 'sent', {});
    const newIssue = await issueOf('2026-W41', 'sent', { linkPositions: 'indexed' });
    const unsent = await issueOf('2026-W42', 'approved', {});
    await app.db
      .insertInto('issue_links')
      .values([
        { issue_id: oldIssue, position: 4242, url, kind: 'story' },
        { issue_id: newIssue, position: 0, url, kind: 'story' },
      ])
      .execute();
    const click = async (issueId: number, position: number) => {
      const [token] = signClickTokens({ current: SECRET, previous: [] }, String(reader.id), issueId, [
        position,
      ]);
      const response = await fetch(`${server.url}/c/${token}`, { redirect: 'manual' });
      return response.status === 302 ? response.headers.get('location') : null;
    };
    expect(await click(oldIssue, 4242)).toBe(url);
    expect(await click(oldIssue, linkPosition(url))).toBe(url);
    expect(await click(newIssue, 0)).toBe(url);
    expect(await click(newIssue, linkPosition(url))).toBeNull();

    await indexedLinkPositions(app.db);
    const schemes = await app.db
      .selectFrom('issues')
      .select(['id', 'content_snapshot'])
      .where('id', 'in', [oldIssue, unsent])
      .execute();
    expect(schemes).toHaveLength(2);
    const schemeOf = (id: number) =>
      (schemes.find((row) => row.id === id)?.content_snapshot as { linkPositions?: string } | undefined)
        ?.linkPositions;
    expect(schemeOf(oldIssue)).toBeUndefined();
    expect(schemeOf(unsent)).toBe('indexed');
  });
});
