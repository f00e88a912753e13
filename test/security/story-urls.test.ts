import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { up as reencodeUrls } from '../../src/db/migrations/20261130020000_reencode_urls.ts';
import { linkPosition } from '../../src/render/issue-links.ts';
import { parseStories } from '../../src/stories/parse-stories.ts';
import { upsertStories } from '../../src/stories/story.repository.ts';
import { signClickTokens } from '../../src/tracking/token.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { createTestApp, SECRET, type Seeded, seedIssue } from '../web/web-fixtures.ts';

let app: App;
let server: RunningServer;
let seed: Seeded;
const secrets = { current: SECRET, previous: [] };

/** A URL as an aggregator may write it: IDN host, non-Latin-1 path, space, umlaut and quotes in the query. */
const RAW = 'https://例え.jp/ニュース/記事 1?q=ü&x="<>"#part';
const ENCODED =
  'https://xn--r8jz45g.jp/%E3%83%8B%E3%83%A5%E3%83%BC%E3%82%B9/%E8%A8%98%E4%BA%8B%201?q=%C3%BC&x=%22%3C%3E%22#part';

beforeAll(async () => {
  app = await createTestApp();
  seed = await seedIssue(app.db);
  server = await startServer(app, { port: 0, host: '127.0.0.1', ackAfterWrite: true });
});
afterAll(async () => {
  await server?.close();
  await app?.close();
});

const story = (id: string, url: string) =>
  JSON.stringify({
    id,
    title: 'A story with an odd link',
    url,
    source: { name: 'Example', url: 'https://bücher.example/über' },
    publishedAt: '2026-11-24T09:00:00Z',
    related: [{ title: 'Earlier', url: 'https://example.org/ä' }],
  });

const click = (position: number, issueId = seed.issueId) =>
  fetch(`${server.url}/c/${signClickTokens(secrets, seed.alice, issueId, [position])[0]}`, {
    redirect: 'manual',
  });

describe('story URLs are stored encoded, so redirects are always valid headers', () => {
  it('import stores the WHATWG-serialised form (percent-encoded, punycode host)', async () => {
    const parsed = parseStories(story('odd-1', RAW));
    expect(parsed.problems).toEqual([]);
    await app.db.transaction().execute((trx) => upsertStories(trx, parsed.stories));
    const row = await app.db
      .selectFrom('stories')
      .select(['url', 'source_url', 'related'])
      .where('id', '=', 'odd-1')
      .executeTakeFirstOrThrow();
    expect(row.url).toBe(ENCODED);
    expect(row.source_url).toBe('https://xn--bcher-kva.example/%C3%BCber');
    expect(JSON.stringify(row.related)).toContain('https://example.org/%C3%A4');
  });

  it('the click redirect answers a link stored raw (before the upgrade) with a valid Location, not 500', async () => {
    const position = 4242;
    await app.db
      .insertInto('issue_links')
      .values({ issue_id: seed.issueId, position, url: RAW, kind: 'story' })
      .execute();
    const response = await click(position);
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(ENCODED);
    expect(response.headers.get('content-security-policy')).toBeDefined();
  });

  it('the migration re-encodes stored story and link URLs and keeps every mailed position working', async () => {
    // An issue of its own: the server has not read (and cached) its links yet, as after a restart.
    const { id: issueId } = await app.db
      .insertInto('issues')
      .values({ week: '2026-W46', status: 'sent' })
      .returning('id')
      .executeTakeFirstOrThrow();
    // Rows as the old code stored them: raw text, positions derived from the raw text.
    await app.db
      .insertInto('stories')
      .values({
        id: 'odd-2',
        title: 'Stored before the upgrade',
        url: 'https://例え.jp/старый путь',
        canonical_url:
          'https://xn--r8jz45g.jp/%D1%81%D1%82%D0%B0%D1%80%D1%8B%D0%B9%20%D0%BF%D1%83%D1%82%D1%8C',
        source_name: 'Example',
        source_url: 'https://ü.example/',
        published_at: new Date('2026-11-24T09:00:00Z'),
      })
      .execute();
    const oldUrl = 'https://例え.jp/старый путь';
    const oldPosition = linkPosition(oldUrl);
    // Two texts of one address in one issue: only one may take the encoded form ((issue, url) is unique).
    const twinRaw = 'https://example.net/é';
    const twinEncoded = 'https://example.net/%C3%A9';
    await app.db
      .insertInto('issue_links')
      .values([
        { issue_id: issueId, position: oldPosition, url: oldUrl, story_id: 'odd-2', kind: 'story' },
        { issue_id: issueId, position: linkPosition(twinRaw), url: twinRaw, kind: 'story' },
        { issue_id: issueId, position: linkPosition(twinEncoded), url: twinEncoded, kind: 'story' },
      ])
      .execute();
    const before = await app.db
      .selectFrom('issue_links')
      .select(['position'])
      .where('issue_id', '=', issueId)
      .orderBy('position')
      .execute();

    await reencodeUrls(app.db);
    await reencodeUrls(app.db); // idempotent

    const stored = await app.db
      .selectFrom('stories')
      .select(['url', 'source_url'])
      .where('id', '=', 'odd-2')
      .executeTakeFirstOrThrow();
    const newUrl = 'https://xn--r8jz45g.jp/%D1%81%D1%82%D0%B0%D1%80%D1%8B%D0%B9%20%D0%BF%D1%83%D1%82%D1%8C';
    expect(stored.url).toBe(newUrl);
    expect(stored.source_url).toBe('https://xn--tda.example/');
    const after = await app.db
      .selectFrom('issue_links')
      .select(['position', 'url'])
      .where('issue_id', '=', issueId)
      .orderBy('position')
      .execute();
    expect(after.map((link) => link.position)).toEqual(before.map((link) => link.position));
    expect(after.find((link) => link.position === oldPosition)?.url).toBe(newUrl);
    expect(after.every((link) => /^[\x21-\x7e]+$/.test(link.url) || link.url === twinRaw)).toBe(true);

    // The token already mailed (old position) and one rendered after the upgrade (position of the new
    // text, for an issue still sending) both reach the same page.
    const mailed = await click(oldPosition, issueId);
    expect(mailed.status).toBe(302);
    expect(mailed.headers.get('location')).toBe(newUrl);
    const rendered = await click(linkPosition(newUrl), issueId);
    expect(rendered.status).toBe(302);
    expect(rendered.headers.get('location')).toBe(newUrl);
    // Both twins still redirect, to a valid header.
    for (const position of [linkPosition(twinRaw), linkPosition(twinEncoded)]) {
      const twin = await click(position, issueId);
      expect(twin.status).toBe(302);
      expect(twin.headers.get('location')).toBe(twinEncoded);
    }
  });
});
