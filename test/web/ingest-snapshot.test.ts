import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { newWorkerId, runWorker, sendIssue } from '../../src/delivery/send-issue.ts';
import { buildIssue } from '../../src/issues/build-issue.ts';
import { approveIssue } from '../../src/issues/issue-lifecycle.ts';
import type { Mailer, OutgoingMessage } from '../../src/mail/mailer.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { editorFetch } from '../support/editor-fetch.ts';
import { createTestApp } from './web-fixtures.ts';

const TOKEN = 'ingest-token-0123456789-abcdefghij';
const WEEK = '2026-W48';
const story = (id: string, title: string, audiences = ['Engineers']) => ({
  id,
  title,
  url: `https://example.com/${id}`,
  source: { name: `Outlet ${id}` },
  publishedAt: '2026-11-25T09:30:00Z',
  audiences,
});

let app: App;
let server: RunningServer;
// As an editor who opened the printed link: the server's token on every request.
const fetch = editorFetch(() => server.editor.token);

beforeAll(async () => {
  app = await createTestApp({ INGEST_TOKEN: TOKEN, MIN_STORIES_PER_SEGMENT: '1', REQUIRE_APPROVAL: 'false' });
  server = await startServer(app, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server?.close();
  await app?.close();
});

function push(body: unknown) {
  return fetch(`${server.url}/api/stories`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  });
}

async function addReaders(count: number, segment: string) {
  const seg = await app.db
    .selectFrom('segments')
    .select('id')
    .where('name', '=', segment)
    .executeTakeFirstOrThrow();
  const rows = await app.db
    .insertInto('subscribers')
    .values(
      Array.from({ length: count }, (_, i) => ({
        email: `reader${i}@example.test`,
        status: 'active' as const,
      })),
    )
    .returning('id')
    .execute();
  await app.db
    .insertInto('subscriptions')
    .values(rows.map((row) => ({ subscriber_id: row.id, segment_id: seg.id })))
    .execute();
}

describe('what was sent stays as sent', () => {
  it('a story updated through the API during a send changes no message of that send and no archive page', async () => {
    expect((await push([story('s1', 'Original title one'), story('s2', 'Original title two')])).status).toBe(
      200,
    );
    await addReaders(6, 'Engineers');
    await buildIssue(app.db, {
      week: WEEK,
      timeZone: 'UTC',
      storiesPerSegment: 7,
      minStoriesPerSegment: 1,
      now: new Date('2026-11-30T07:00:00Z'),
    });

    const messages: OutgoingMessage[] = [];
    const stop = new AbortController();
    let updated = false;
    // The first worker sends one message, then the story changes through the API and the worker stops.
    const first: Mailer = {
      async send(message) {
        messages.push(message);
        if (!updated) {
          updated = true;
          const answer = await push(story('s1', 'Rewritten title after the send started'));
          expect(await answer.json()).toMatchObject({ updated: 1 });
          stop.abort();
        }
        return { ok: true };
      },
      async close() {},
    };
    await sendIssue({ ...app, mailer: first }, WEEK, { signal: stop.signal });
    expect(updated).toBe(true);
    const live = await app.db.selectFrom('stories').select('title').where('id', '=', 's1').executeTakeFirst();
    expect(live?.title).toBe('Rewritten title after the send started');

    // A second worker (another process would do the same) loads the issue from the database and finishes.
    const rest: Mailer = {
      async send(message) {
        messages.push(message);
        return { ok: true };
      },
      async close() {},
    };
    const issue = await app.db
      .selectFrom('issues')
      .select('id')
      .where('week', '=', WEEK)
      .executeTakeFirstOrThrow();
    await runWorker({
      db: app.db,
      mailer: rest,
      config: app.config,
      workerId: newWorkerId(),
      issueId: issue.id,
    });
    expect(messages).toHaveLength(6);
    for (const message of messages) {
      expect(message.html).toContain('Original title one');
      expect(message.html).not.toContain('Rewritten title');
      expect(message.text).not.toContain('Rewritten title');
    }
    expect(new Set(messages.map((m) => m.subject)).size).toBe(1);

    const archive = await fetch(`${server.url}/archive/${WEEK}/engineers`);
    expect(archive.status).toBe(200);
    const page = await archive.text();
    expect(page).toContain('Original title one');
    expect(page).not.toContain('Rewritten title');

    const editor = await (await fetch(`${server.url}/editor/issues/${WEEK}`)).text();
    expect(editor).toContain('Original title one');
    expect(editor).not.toContain('Rewritten title');
  });

  it('a retraction leaves the unsent issue and flags the sent one', async () => {
    // The sent issue keeps its story and the editor flags it.
    const deleted = await fetch(`${server.url}/api/stories/s1`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(deleted.status).toBe(200);
    const sentPage = await (await fetch(`${server.url}/editor/issues/${WEEK}`)).text();
    expect(sentPage).toMatch(/Original title one <span class="badge retracted/);

    // An approved, unsent issue loses a story retracted after its approval, snapshot included.
    await push(
      [
        story('u1', 'Chip makers agree on an open interconnect', ['Engineers']),
        story('u2', 'Regulators publish audit rules for models', ['Engineers']),
      ].map((s) => ({ ...s, publishedAt: '2026-12-02T09:00:00Z' })),
    );
    await buildIssue(app.db, {
      week: '2026-W49',
      timeZone: 'UTC',
      storiesPerSegment: 7,
      minStoriesPerSegment: 1,
      now: new Date('2026-12-07T07:00:00Z'),
    });
    await approveIssue(app.db, '2026-W49', { now: new Date('2026-12-07T07:10:00Z'), timeZone: 'UTC' });
    const before = await (await fetch(`${server.url}/editor/issues/2026-W49`)).text();
    expect(before).toContain('Regulators publish audit rules for models');
    const pushed = await push({ id: 'u2', retracted: true });
    expect(await pushed.json()).toMatchObject({ retracted: 1 });
    const preview = await (await fetch(`${server.url}/editor/issues/2026-W49`)).text();
    expect(preview).toContain('Chip makers agree on an open interconnect');
    expect(preview).not.toContain('Regulators publish audit rules for models');
  });

  it("the editor shows the API batches and this week's stories per segment", async () => {
    const page = await (await fetch(`${server.url}/editor/ingestion`)).text();
    expect(page).toContain('API batches');
    expect(page).toMatch(/<td>token from 127\.0\.0\.1<\/td><td class="good">imported<\/td>/);
    expect(page).toContain('This week');
    expect(page).toContain('No feed is pulled');
  });
});
