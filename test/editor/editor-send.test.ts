import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { createEditorSender, type EditorSender } from '../../src/delivery/editor-send.ts';
import { beatWorker } from '../../src/delivery/worker-heartbeat.repository.ts';
import { buildIssue } from '../../src/issues/build-issue.ts';
import { approveIssue } from '../../src/issues/issue-lifecycle.ts';
import { saveIssueWriting } from '../../src/issues/issue-writing.repository.ts';
import { upsertStories } from '../../src/stories/story.repository.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { editorFetch } from '../support/editor-fetch.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { seedWeek, testApp, WEEK, weekStories } from './editor-seed.ts';

// Start, pause, resume and cancel from the editor over real HTTP, each through its confirmation step;
// the live progress as JSON; and a send the server drains itself when no worker is alive, read back
// from a real SMTP server with the issue's note and subject.
const LATER = '2026-W48';
let t: TestDatabase;
let sink: SmtpSink;
let app: App;
let sender: EditorSender;
let server: RunningServer;

beforeAll(async () => {
  t = await createTestDatabase();
  sink = await startSmtpSink();
  await seedWeek(t);
  // The same stories a week later, for the send the server drains itself.
  await t.db.transaction().execute((trx) =>
    upsertStories(
      trx,
      weekStories().map((story) => ({
        ...story,
        id: `later-${story.id}`,
        url: story.url.replace('/articles/', '/later/'),
        canonicalUrl: story.url.replace('/articles/', '/later/'),
        publishedAt: new Date((story.publishedAt as Date).getTime() + 7 * 86_400_000),
      })),
    ),
  );
  app = testApp(t, { SMTP_URL: sink.url, REQUIRE_APPROVAL: 'true' });
  for (const week of [WEEK, LATER]) {
    await buildIssue(t.db, {
      week,
      timeZone: 'UTC',
      storiesPerSegment: 5,
      minStoriesPerSegment: 1,
      now: new Date('2026-12-01T07:00:00Z'),
    });
  }
  await saveIssueWriting(
    t.db,
    LATER,
    {
      note: 'Sent from the editor: see https://recap.example.org/later',
      subject: 'The later week',
      preheader: null,
    },
    'editor',
  );
  for (const week of [WEEK, LATER]) await approveIssue(t.db, week, { timeZone: 'UTC' });
  sender = createEditorSender({ db: t.db, config: app.config, mailer: app.mailer });
  server = await startServer(app, { port: 0, host: '127.0.0.1', editorSender: sender });
}, 120_000);
afterAll(async () => {
  await server?.close();
  await sender?.close();
  await app?.close();
  await sink?.close();
  await t?.close();
});

const fetch = editorFetch(() => server.editor.token);

function post(path: string, fields: Record<string, string> = {}) {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url },
    body: new URLSearchParams(fields).toString(),
  });
}

function said(response: Response): string {
  const params = new URL(response.headers.get('location') ?? '/', 'http://x').searchParams;
  return `${params.get('notice') ?? ''}${params.get('error') ? `error=${params.get('error')}` : ''}`;
}

const status = async (week: string) =>
  (await t.db.selectFrom('issues').select('status').where('week', '=', week).executeTakeFirstOrThrow())
    .status;

/** One send action as the editor does it: the button, its confirmation page, then the confirmed form. */
async function confirmed(week: string, action: string): Promise<Response> {
  const ask = await post(`/editor/issues/${week}/send`, { action });
  expect(ask.status).toBe(200);
  const page = await ask.text();
  expect(page).toContain(`id="confirm-${action}"`);
  expect(page).toContain('name="confirmed" value="yes"');
  // Nothing happened yet.
  return post(`/editor/issues/${week}/send`, { action, confirmed: 'yes' });
}

describe('sending from the editor', () => {
  it('starts, pauses, resumes and cancels, each after a confirmation, with a worker elsewhere alive', async () => {
    // A worker of another process is alive: the server leaves the send to it.
    await beatWorker(t.db, { workerId: 'other-host:42:abc', kind: 'worker' });
    const page = await (await fetch(`${server.url}/editor/issues/${WEEK}`)).text();
    expect(page).toContain('id="send-start"');

    const ask = await post(`/editor/issues/${WEEK}/send`, { action: 'start' });
    expect(await ask.text()).toContain(`Start sending ${WEEK} now?`);
    expect(await status(WEEK)).toBe('approved');

    const started = await confirmed(WEEK, 'start');
    expect(said(started)).toMatch(/^Sending 2026-W47 to 4 readers with the workers alive\.$/);
    expect(await status(WEEK)).toBe('sending');
    const progress = (await (await fetch(`${server.url}/editor/issues/${WEEK}/progress.json`)).json()) as {
      status: string;
      total: number;
      due: number;
      sent: number;
      workers: Array<{ workerId: string }>;
    };
    expect(progress).toMatchObject({ status: 'sending', total: 4, due: 4, sent: 0 });
    expect(progress.workers.map((w) => w.workerId)).toEqual(['other-host:42:abc']);
    const sending = await (await fetch(`${server.url}/editor/issues/${WEEK}`)).text();
    expect(sending).toContain(`data-progress-url="/editor/issues/${WEEK}/progress.json"`);
    expect(sending).toContain('Workers alive: ');

    expect(said(await confirmed(WEEK, 'pause'))).toBe(`Paused the send of ${WEEK}.`);
    expect(await status(WEEK)).toBe('paused');
    expect(said(await confirmed(WEEK, 'resume'))).toBe(`Resumed the send of ${WEEK}.`);
    expect(await status(WEEK)).toBe('sending');
    expect(said(await confirmed(WEEK, 'cancel'))).toBe(
      `Cancelled the send of ${WEEK}: 4 of 4 messages will not go out.`,
    );
    expect(await status(WEEK)).toBe('cancelled');
    expect(said(await confirmed(WEEK, 'pause'))).toBe(
      `error=The send of ${WEEK} is cancelled: nothing to pause.`,
    );
    const unknown = await post(`/editor/issues/${WEEK}/send`, { action: 'explode' });
    expect(unknown.status).toBe(400);
    expect(sink.messages).toHaveLength(0);
  });

  it('drains a send it started itself when no worker is alive, note and subject in every message', async () => {
    await t.db.deleteFrom('worker_heartbeats').execute();
    const started = await confirmed(LATER, 'start');
    expect(said(started)).toBe(`Sending ${LATER} to 4 readers with this server’s worker.`);
    await expect
      .poll(async () => (await status(LATER)) === 'sent' && sink.messages.length === 4, { timeout: 30_000 })
      .toBe(true);
    for (const { parsed } of sink.messages) {
      expect(parsed.subject).toBe('The later week');
      expect(parsed.text).toContain('Sent from the editor: see\nhttp://127.0.0.1:9/c/');
      expect(String(parsed.html)).toContain('Sent from the editor: see');
    }
    const progress = (await (await fetch(`${server.url}/editor/issues/${LATER}/progress.json`)).json()) as {
      status: string;
      sent: number;
      workers: unknown[];
    };
    expect(progress).toMatchObject({ status: 'sent', sent: 4, workers: [] });
  });
});
