import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { subjectRule } from '../../src/delivery/drain-issue.ts';
import { sendIssue } from '../../src/delivery/send-issue.ts';
import { decideDueSubjectTest } from '../../src/delivery/subject-test.repository.ts';
import { listSegments } from '../../src/stories/story.repository.ts';
import { insertTrackingEvents } from '../../src/tracking/event-rollups.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { launchChromium } from '../support/chromium.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { editorFetch } from '../support/editor-fetch.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { seedWeek, testApp, WEEK } from './editor-seed.ts';

// A subject test as the editor sees it: variants written on the draft's page over real HTTP, a send
// over a real SMTP server, simulated human and scanner clicks, the decision, and the section at 1280
// and 390 px in a browser (no sideways scroll; screenshots for the record).
const shots = process.env.RECAP_SHOTS_DIR ?? path.resolve('test-artifacts/editor');
const token = randomBytes(24).toString('base64url');
const READERS = 1500;
let t: TestDatabase;
let sink: SmtpSink;
let app: App;
let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  t = await createTestDatabase();
  sink = await startSmtpSink();
  await seedWeek(t);
  const segments = await listSegments(t.db);
  const readers = await t.db
    .insertInto('subscribers')
    .values(
      Array.from({ length: READERS }, (_, i) => ({
        email: `test${i}@example.net`,
        status: 'active' as const,
      })),
    )
    .returning('id')
    .execute();
  await t.db
    .insertInto('subscriptions')
    .values(
      readers.map((r, i) => ({
        subscriber_id: r.id,
        segment_id: (segments[i % 2] ?? segments[0])?.id as number,
      })),
    )
    .execute();
  app = testApp(t, { SMTP_URL: sink.url, EDITOR_TOKEN: token, SUBJECT_TEST_SHARE: '60%' });
  server = await startServer(app, {
    port: 0,
    host: '127.0.0.1',
    now: () => new Date('2026-11-22T10:00:00Z'),
  });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await app?.close();
  await sink?.close();
  await t?.close();
});

const fetch = editorFetch(() => server.editor.token);
const post = (route: string, fields: Record<string, string> = {}) =>
  fetch(`${server.url}${route}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url },
    body: new URLSearchParams(fields).toString(),
  });
const said = (response: Response) => {
  const params = new URL(response.headers.get('location') ?? '/', 'http://x').searchParams;
  return `${params.get('notice') ?? ''}${params.get('error') ? `error=${params.get('error')}` : ''}`;
};
const page = async () => (await fetch(`${server.url}/editor/issues/${WEEK}`)).text();

describe('a subject test in the editor', () => {
  it('writes variants on the draft, sends the test, shows live numbers, the decision and its reason, at 390 px without sideways scroll', async () => {
    expect((await post(`/editor/issues/${WEEK}/build`)).status).toBe(303);
    const tooLong = await post(`/editor/issues/${WEEK}/subject-variants`, { 'subject-B': 'x'.repeat(201) });
    expect(said(tooLong)).toMatch(/error=The subject is 201 characters; at most 200/);
    const saved = await post(`/editor/issues/${WEEK}/subject-variants`, {
      'subject-B': 'Chip rules, audits and a cheaper model',
      'preheader-B': 'Three things to know before Monday',
      'subject-C': 'Your three-minute AI week',
      'preheader-C': '',
    });
    expect(said(saved)).toContain('Saved 2 subject variants');
    const draft = await page();
    expect(draft).toContain('id="subject-test-heading"');
    expect(draft).toContain('Chip rules, audits and a cheaper model');

    const first = await sendIssue(app, WEEK);
    expect(first.waiting?.subjectTest).toBe(true);
    const issue = await t.db
      .selectFrom('issues')
      .select('id')
      .where('week', '=', WEEK)
      .executeTakeFirstOrThrow();
    const live = await page();
    expect(live).toMatch(/of the tracked readers got a variant/);
    expect(live).toMatch(/The winner is decided/);
    expect(live).not.toContain('id="save-variants"');

    // Simulated readers: B draws one human clicker in six, A one in twelve, C one in eleven; scanners press
    // every link of A's and C's copies, and proxies open them all: none of it counts.
    const groups = await sql<{ subscriber_id: string; subject_group: string }>`
      SELECT subscriber_id, subject_group FROM deliveries WHERE issue_id = ${issue.id} AND subject_group <> 'held' ORDER BY id
    `.execute(t.db);
    const of = (group: string) =>
      groups.rows.filter((r) => r.subject_group === group).map((r) => r.subscriber_id);
    const event = (kind: 'open' | 'click', cls: 'human' | 'scanner' | 'machine') => (id: string) => ({
      kind,
      issue_id: issue.id,
      subscriber_id: id,
      class: cls,
      link_position: kind === 'click' ? 1 : null,
    });
    const every = (ids: string[], n: number) => ids.filter((_, i) => i % n === 0);
    await insertTrackingEvents(t.db, [
      ...every(of('A'), 12).map(event('click', 'human')),
      ...every(of('B'), 6).map(event('click', 'human')),
      ...every(of('C'), 11).map(event('click', 'human')),
      ...every(of('A'), 3).map(event('open', 'human')),
      ...every(of('B'), 3).map(event('open', 'human')),
      ...every(of('C'), 3).map(event('open', 'human')),
      ...[...of('A'), ...of('C')].map(event('click', 'scanner')),
      ...[...of('A'), ...of('C')].map(event('open', 'machine')),
    ]);
    await sql`UPDATE subject_tests SET decide_at = now() WHERE issue_id = ${issue.id}`.execute(t.db);
    const decision = await decideDueSubjectTest(t.db, issue.id, subjectRule(app.config));
    expect(decision?.winner, decision?.reason).toBe('B');
    const rest = await sendIssue(app, WEEK);
    const copies = new Map<string, number>();
    for (const m of sink.messages)
      copies.set(m.envelopeTo[0] as string, (copies.get(m.envelopeTo[0] as string) ?? 0) + 1);
    expect(copies.size).toBe(READERS + 4);
    expect([...copies.values()].every((n) => n === 1)).toBe(true);
    expect(rest.sent).toBeGreaterThan(0);

    const decided = await page();
    expect(decided).toContain('B (winner)');
    expect(decided).toMatch(/Decided .*variant B won/);

    const stats = await fetch(`${server.url}/editor/issues/${WEEK}`);
    expect(stats.status).toBe(200);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const tab = await context.newPage();
    await tab.goto(`${server.url}/?token=${token}`);
    for (const width of [1280, 390]) {
      await tab.setViewportSize({ width, height: width === 390 ? 844 : 800 });
      await tab.goto(`${server.url}/editor/issues/${WEEK}#subject-test`);
      const scrollWidth = await tab.evaluate(() => document.documentElement.scrollWidth);
      expect(scrollWidth).toBeLessThanOrEqual(width);
      const file = path.join(shots, `editor-subject-test-${width}.png`);
      await tab.locator('#subject-test').screenshot({ path: file });
      if (process.env.RECAP_NOTES_SHOTS)
        copyFileSync(file, path.join(process.env.RECAP_NOTES_SHOTS, path.basename(file)));
    }
    console.log(
      `editor's subject test section: ${(await tab.locator('#subject-test').innerText()).replace(/\n+/g, ' | ')}`,
    );
    await context.close();
  }, 120_000);
});
