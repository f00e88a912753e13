import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { seedWeek, testApp, WEEK } from '../editor/editor-seed.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { editorFetch } from '../support/editor-fetch.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';

let t: TestDatabase;
let sink: SmtpSink;
let app: App;
let server: RunningServer;
// As an editor who opened the printed link: the server's token on every request.
const fetch = editorFetch(() => server.editor.token);
const SENT_KEY = 'engineers-developers+policy-legal';
const UNSENT_KEY = 'engineers-developers'; // has stories, but no reader got this set

beforeAll(async () => {
  t = await createTestDatabase();
  sink = await startSmtpSink();
  await seedWeek(t);
  app = testApp(t, { SMTP_URL: sink.url });
  server = await startServer(app, { port: 0, host: '127.0.0.1' });
  const built = await fetch(`${server.url}/editor/issues/${WEEK}/build`, {
    method: 'POST',
    redirect: 'manual',
    headers: { origin: server.url, 'content-type': 'application/x-www-form-urlencoded' },
    body: '',
  });
  expect(built.status).toBe(303);
  // The issue is still sending: one reader of the two-segment set has had their copy.
  const issue = await t.db
    .updateTable('issues')
    .set({ status: 'sending' })
    .where('week', '=', WEEK)
    .returning('id')
    .executeTakeFirstOrThrow();
  const readers = await t.db.selectFrom('subscribers').select('id').orderBy('id').execute();
  await t.db
    .insertInto('deliveries')
    .values(
      readers.slice(0, 2).map((reader, i) => ({
        issue_id: issue.id,
        subscriber_id: reader.id,
        segment_key: i === 0 ? SENT_KEY : UNSENT_KEY,
        status: i === 0 ? ('sent' as const) : ('queued' as const),
        message_id: `<recap.${issue.id}.${reader.id}@example.com>`,
      })),
    )
    .execute();
});
afterAll(async () => {
  await server?.close();
  await app?.close();
  await sink?.close();
  await t?.close();
});

const archive = (key: string) => fetch(`${server.url}/archive/${WEEK}/${key}`);

describe('the archive is no CPU lever', () => {
  it('serves only segment sets the issue was sent with; any other well-formed key is 404', async () => {
    const sent = await archive(SENT_KEY);
    expect(sent.status).toBe(200);
    expect(await sent.text()).toContain('Open model tops coding benchmark');
    // Stories exist for it, but nobody was sent this set (its only delivery is still queued).
    const unsent = await archive(UNSENT_KEY);
    expect(unsent.status).toBe(404);
    expect(unsent.headers.get('content-security-policy')).toBeDefined();
    expect((await archive('policy-legal+engineers-developers')).status).toBe(404);
  });

  it('unique keys neither render nor push real pages out; pages of issues still sending are cached', async () => {
    expect((await archive(SENT_KEY)).status).toBe(200);
    // Were the page rendered again, this would show: the cached copy is what the readers got.
    await t.db
      .updateTable('stories')
      .set({ title: 'Changed after sending' })
      .where('id', '=', 'story-1')
      .execute();
    for (let i = 0; i < 300; i += 30) {
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, j) => archive(`engineers-developers+x${i + j}`)),
      );
      expect(answers.map((answer) => answer.status)).toEqual(Array(30).fill(404));
    }
    const again = await (await archive(SENT_KEY)).text();
    expect(again).toContain('Open model tops coding benchmark');
    expect(again).not.toContain('Changed after sending');
  });
});
