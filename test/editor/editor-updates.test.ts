import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { buildIssue } from '../../src/issues/build-issue.ts';
import { upsertStories } from '../../src/stories/story.repository.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { makeStory } from '../selection/story-factory.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { editorFetch } from '../support/editor-fetch.ts';
import { testApp } from './editor-seed.ts';

let t: TestDatabase;
let app: App;
let server: RunningServer;
const fetch = editorFetch(() => server.editor.token);

const at = (day: string) => new Date(`${day}T09:00:00Z`);

beforeAll(async () => {
  t = await createTestDatabase();
  await t.db.transaction().execute((trx) =>
    upsertStories(trx, [
      makeStory({
        id: 'quill-first',
        title: 'Quill Robotics unveils warehouse arm',
        tldr: {
          whatChanged: 'Quill Robotics unveiled a warehouse arm.',
          whyItMatters: null,
          whatToDoNext: null,
        },
        publishedAt: at('2026-11-18'),
      }),
      makeStory({
        id: 'quill-later',
        title: 'Quill Robotics warehouse arm ships to first customers',
        source: { name: 'Robot Report', url: null },
        tldr: {
          whatChanged: 'Quill Robotics warehouse arm shipped.',
          whyItMatters: null,
          whatToDoNext: null,
        },
        publishedAt: at('2026-11-25'),
        timeline: [{ date: '2026-11-24', event: 'First deliveries' }],
      }),
      makeStory({ id: 'plain-w48', title: 'Lantern models get cheaper', publishedAt: at('2026-11-25') }),
    ]),
  );
  const build = (week: string, now: string) =>
    buildIssue(t.db, {
      week,
      timeZone: 'UTC',
      storiesPerSegment: 5,
      minStoriesPerSegment: 1,
      now: at(now),
      publicUrl: 'http://127.0.0.1:9',
    });
  await build('2026-W47', '2026-11-22');
  await t.db
    .updateTable('issues')
    .set({ status: 'sent', send_started_at: at('2026-11-23') })
    .execute();
  await build('2026-W48', '2026-11-29');
  app = testApp(t);
  server = await startServer(app, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server?.close();
  await app?.close();
  await t?.close();
});

describe("the editor's issue page", () => {
  it('marks an update and names the earlier story, its week and what is new', async () => {
    const page = await (await fetch(`${server.url}/editor/issues/2026-W48`)).text();
    const item = page.split('data-story="quill-later"')[1]?.split('</li>')[0] ?? '';
    expect(item).toContain('<span class="badge update"');
    expect(item).toContain(
      'Update of <a href="/editor/issues/2026-W47">"Quill Robotics unveils warehouse arm"</a>',
    );
    expect(item).toContain(
      '(2026-W47, story quill-first) · 1 new event since 2026-11-22: 2026-11-24 First deliveries',
    );
    const other = page.split('data-story="plain-w48"')[1]?.split('</li>')[0] ?? '';
    expect(other).not.toContain('Update of');
  });
});
