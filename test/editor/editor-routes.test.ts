import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { ensureSegments } from '../../src/stories/story.repository.ts';
import { insertTrackingEvents } from '../../src/tracking/event-rollups.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { editorFetch } from '../support/editor-fetch.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { seedWeek, TEST_RECIPIENT, testApp, WEEK } from './editor-seed.ts';

let t: TestDatabase;
let sink: SmtpSink;
let app: App;
let server: RunningServer;

beforeAll(async () => {
  t = await createTestDatabase();
  sink = await startSmtpSink();
  await seedWeek(t);
  app = testApp(t, { SMTP_URL: sink.url });
  server = await startServer(app, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server?.close();
  await app?.close();
  await sink?.close();
  await t?.close();
});

// The editor's requests carry the token this server made at start (no EDITOR_TOKEN in this app).
const fetch = editorFetch(() => server.editor.token);

/** A form post as the editor's own page sends it. */
function post(path: string, fields: Record<string, string> = {}) {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url },
    body: new URLSearchParams(fields).toString(),
  });
}

/** The notice or error the redirect after a form carries. */
function said(response: Response): string {
  const params = new URL(response.headers.get('location') ?? '/', 'http://x').searchParams;
  return `${params.get('notice') ?? ''}${params.get('error') ? `error=${params.get('error')}` : ''}`;
}

const storyOrder = (page: string, slug: string) => {
  const section = page.split(`data-segment="${slug}"`)[1]?.split('</details>')[0] ?? '';
  return [...section.matchAll(/class="story" data-story="([^"]+)"/g)].map((m) => m[1]);
};

describe('editor routes over HTTP', () => {
  it('builds a week from the weeks list and previews it', async () => {
    const start = await (await fetch(`${server.url}/`)).text();
    expect(start).toContain('Weeks');
    const built = await post(`/editor/issues/${WEEK}/build`);
    expect(built.status).toBe(303);
    expect(built.headers.get('location')).toMatch(/notice=Built/);

    const response = await fetch(`${server.url}/editor/issues/${WEEK}?segments=engineers-developers`);
    expect(response.headers.get('content-security-policy')).toContain("frame-src 'self'");
    const page = await response.text();
    expect(page).toMatch(/id="subject">[^<]+ and \d+ more</);
    expect(page).toMatch(/id="html-size" class="good">\d+\.\d KB of Gmail’s 102\.0 KB limit/);
    expect(storyOrder(page, 'engineers-developers').length).toBeGreaterThan(2);
    // Each segment set's read time and what it left out.
    const budget = page.split('id="reading-budget"')[1]?.split('</table>')[0] ?? '';
    const rows = [
      ...budget.matchAll(
        /<tr data-segments="([^"]+)"><td data-label="Segment set">[^<]*<\/td><td class="num" data-label="Read time">(\d+) min<\/td>/g,
      ),
    ];
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(Number(row[2])).toBeLessThanOrEqual(3);
    expect(budget).toMatch(
      /<li>[^<]+ <span class="muted">\((developing, )?reading time\)<\/span><\/li>|nothing/,
    );

    const email = await fetch(
      `${server.url}/editor/issues/${WEEK}/email?segments=engineers-developers&view=desktop`,
    );
    expect(email.headers.get('content-type')).toMatch(/text\/html/);
    const html = await email.text();
    expect(html).toContain('https://news1.example.com/articles/1'); // original links: tracking off in the preview
    expect(html).not.toContain('/o/');
    const text = await fetch(
      `${server.url}/editor/issues/${WEEK}/email?segments=engineers-developers&view=text`,
    );
    expect(text.headers.get('content-type')).toMatch(/text\/plain/);
  });

  it('pins, drops and boosts through forms, rebuilding the issue', async () => {
    const before = storyOrder(
      await (await fetch(`${server.url}/editor/issues/${WEEK}?segments=engineers-developers`)).text(),
      'engineers-developers',
    );
    const last = before[before.length - 1] as string;
    const segment = (
      await t.db
        .selectFrom('segments')
        .select('id')
        .where('slug', '=', 'engineers-developers')
        .executeTakeFirstOrThrow()
    ).id;

    const pinned = await post(`/editor/issues/${WEEK}/overrides?segments=engineers-developers`, {
      action: 'pin',
      story: last,
      segment: String(segment),
      position: '0',
    });
    expect(pinned.status).toBe(303);
    expect(said(pinned)).toMatch(/Pinned at place 1/);
    const afterPin = storyOrder(
      await (await fetch(`${server.url}/editor/issues/${WEEK}?segments=engineers-developers`)).text(),
      'engineers-developers',
    );
    expect(afterPin[0]).toBe(last);

    const dropped = before[0] as string;
    await post(`/editor/issues/${WEEK}/overrides`, {
      action: 'drop',
      story: dropped,
      segment: String(segment),
    });
    const afterDrop = storyOrder(
      await (await fetch(`${server.url}/editor/issues/${WEEK}`)).text(),
      'engineers-developers',
    );
    expect(afterDrop).not.toContain(dropped);
    const overrides = await t.db
      .selectFrom('issue_overrides')
      .select(['kind', 'story_id'])
      .where('week', '=', WEEK)
      .orderBy('id')
      .execute();
    expect(overrides).toEqual([
      { kind: 'pin', story_id: last },
      { kind: 'drop', story_id: dropped },
    ]);

    const bad = await post(`/editor/issues/${WEEK}/overrides`, {
      action: 'boost',
      story: last,
      segment: String(segment),
      boost: 'lots',
    });
    expect(said(bad)).toMatch(/error=A boost is a number/);
  });

  it('sends a test only to the allow-list: [TEST], no tracking, no delivery row', async () => {
    const refused = await post(`/editor/issues/${WEEK}/test`, { recipient: 'stranger@example.com' });
    expect(said(refused)).toMatch(/only to the addresses in TEST_RECIPIENTS/);
    expect(sink.messages).toHaveLength(0);

    const sent = await post(`/editor/issues/${WEEK}/test?segments=engineers-developers`, {
      recipient: TEST_RECIPIENT,
    });
    expect(said(sent)).toMatch(/Test of engineers-developers sent/);
    expect(sink.messages).toHaveLength(2);
    const message = sink.messages.find((m) => m.parsed.subject?.startsWith('[TEST]'))?.parsed;
    const notice = sink.messages.find((m) => !m.parsed.subject?.startsWith('[TEST]'))?.parsed;
    expect(notice?.subject).toBe(`Test send: Weekly AI Recap ${WEEK} (Engineers & Developers)`);
    expect(notice?.text).toContain(`/editor/issues/${WEEK}?segments=engineers-developers`);
    expect(message?.subject).toMatch(/^\[TEST\] \S/);
    expect(sink.messages.map((m) => m.envelopeTo)).toEqual([[TEST_RECIPIENT], [TEST_RECIPIENT]]);
    expect(String(message?.html)).not.toMatch(/\/o\/|\/c\//);
    const deliveries = await t.db.selectFrom('deliveries').select('id').execute();
    expect(deliveries).toEqual([]);
  });

  it('refuses a form posted from another site', async () => {
    const response = await fetch(`${server.url}/editor/issues/${WEEK}/approve`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: '',
    });
    expect(response.status).toBe(403);
    const issue = await t.db
      .selectFrom('issues')
      .select('status')
      .where('week', '=', WEEK)
      .executeTakeFirstOrThrow();
    expect(issue.status).toBe('draft');
  });

  it('refuses to approve with an empty segment unless the box is ticked, and keeps the reason', async () => {
    await ensureSegments(t.db, ['Astronomers']);
    await post(`/editor/issues/${WEEK}/build`);
    const page = await (await fetch(`${server.url}/editor/issues/${WEEK}`)).text();
    expect(page).toContain('id="allow-empty"');
    const refused = await post(`/editor/issues/${WEEK}/approve`);
    expect(said(refused)).toContain('"Astronomers" has no stories');
    const status = () =>
      t.db
        .selectFrom('issues')
        .select(['status', 'status_reason'])
        .where('week', '=', WEEK)
        .executeTakeFirstOrThrow();
    expect((await status()).status).toBe('draft');
    const approved = await post(`/editor/issues/${WEEK}/approve`, {
      allow_empty: 'on',
      empty_reason: 'no astronomy news this week',
    });
    expect(said(approved)).toMatch(/is approved: the selection, note and subject are frozen/);
    expect(await status()).toEqual({
      status: 'approved',
      status_reason: 'approved with empty segments (Astronomers): no astronomy news this week',
    });
  });

  it('approves, after which the selection is frozen', async () => {
    const approved = await post(`/editor/issues/${WEEK}/approve`);
    expect(said(approved)).toMatch(/is approved: the selection, note and subject are frozen/);
    const issue = await t.db
      .selectFrom('issues')
      .select(['status', 'approved_at'])
      .where('week', '=', WEEK)
      .executeTakeFirstOrThrow();
    expect(issue.status).toBe('approved');
    const refused = await post(`/editor/issues/${WEEK}/overrides`, {
      action: 'drop',
      story: 'story-2',
      segment: '',
    });
    expect(said(refused)).toMatch(/frozen/);
    const page = await (await fetch(`${server.url}/editor/issues/${WEEK}`)).text();
    expect(page).not.toContain('id="approve"');
  });
});

describe('the dashboard over HTTP', () => {
  it('shows the numbers of the events the test inserted, per segment set, with charts', async () => {
    const issue = await t.db
      .selectFrom('issues')
      .select('id')
      .where('week', '=', WEEK)
      .executeTakeFirstOrThrow();
    const readers = await t.db.selectFrom('subscribers').select('id').orderBy('id').execute();
    await t.db
      .insertInto('deliveries')
      .values(
        readers.map((r, i) => ({
          issue_id: issue.id,
          subscriber_id: r.id,
          segment_key: i % 2 === 0 ? 'engineers-developers' : 'engineers-developers+policy-legal',
          status: i === 3 ? ('bounced' as const) : ('sent' as const),
          message_id: `<dash.${r.id}@test>`,
          order_group: i === 1 ? ('holdout' as const) : ('personal' as const),
        })),
      )
      .execute();
    const [a, b, c] = readers.map((r) => r.id) as [string, string, string];
    await insertTrackingEvents(t.db, [
      { kind: 'open', issue_id: issue.id, subscriber_id: a, class: 'human' },
      { kind: 'open', issue_id: issue.id, subscriber_id: b, class: 'human' },
      { kind: 'open', issue_id: issue.id, subscriber_id: c, class: 'machine' },
      { kind: 'click', issue_id: issue.id, subscriber_id: a, class: 'human', link_position: 0 },
    ]);
    await t.db
      .updateTable('issues')
      .set({ send_started_at: new Date('2026-11-23T08:00:00Z') })
      .where('id', '=', issue.id)
      .execute();
    await t.db
      .insertInto('consent_log')
      .values({
        subscriber_id: b,
        action: 'unsubscribe',
        detail: JSON.stringify({ source: 'one-click', issueId: issue.id }),
      })
      .execute();

    const page = await (await fetch(`${server.url}/editor/issues/${WEEK}/stats`)).text();
    const metric = (label: string) => new RegExp(`data-metric="${label}">([^<]*)<`).exec(page)?.[1];
    expect(metric('Recipients')).toBe('4');
    expect(metric('Bounced')).toBe('1');
    expect(metric('Unique human opens')).toBe('2');
    expect(metric('Open rate')).toBe('66.7%'); // 2 of 3 delivered
    expect(metric('Machine opens')).toBe('1');
    expect(metric('Unique human clicks')).toBe('1');
    expect(metric('Click rate')).toBe('33.3%');
    expect(metric('Unsubscribes')).toBe('1');
    expect(page).toContain('data-segment-key="engineers-developers+policy-legal"');
    // Personal order against the holdout: far too few readers to say anything.
    expect(page).toContain('id="personal-order"');
    expect(page).toMatch(/data-metric="personal-order-difference">[^<]*not enough data/);

    const dashboard = await (await fetch(`${server.url}/editor/dashboard`)).text();
    expect(dashboard.match(/<svg class="chart"/g)).toHaveLength(4);
    expect(dashboard).toContain('2026-W47: 66.7%');
    await t.db
      .insertInto('schedule_fires')
      .values({
        schedule_name: 'weekly-recap',
        slot: '2026-11-23T08:00:00Z',
        owner: 'host:1',
        week: WEEK,
        outcome: 'waiting-approval',
        detail: 'waiting for an editor <to approve>',
      })
      .execute();
    const weeks = await (await fetch(`${server.url}/`)).text();
    expect(weeks).toContain('<td>waiting-approval</td><td>waiting for an editor &lt;to approve&gt;</td>');
    expect(weeks).toMatch(/data-week="2026-W47"[\s\S]*?<td class="num">4<\/td>/);
  });
});

describe('editor access with EDITOR_TOKEN', () => {
  let guarded: RunningServer;
  const token = 'editor-token-for-the-test-0123456789';
  beforeAll(async () => {
    guarded = await startServer(testApp(t, { SMTP_URL: sink.url, EDITOR_TOKEN: token }), {
      port: 0,
      host: '127.0.0.1',
    });
  });
  afterAll(() => guarded?.close());

  it('requires the token on editor routes and leaves subscriber routes public', async () => {
    expect((await globalThis.fetch(`${guarded.url}/`)).status).toBe(401);
    expect((await globalThis.fetch(`${guarded.url}/editor/dashboard`)).status).toBe(401);
    expect(
      (
        await globalThis.fetch(`${guarded.url}/editor/dashboard`, {
          headers: { authorization: `Bearer ${token}` },
        })
      ).status,
    ).toBe(200);

    const first = await globalThis.fetch(`${guarded.url}/editor/dashboard?token=${token}`, {
      redirect: 'manual',
    });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/editor/dashboard');
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect(first.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    expect((await globalThis.fetch(`${guarded.url}/editor/dashboard`, { headers: { cookie } })).status).toBe(
      200,
    );

    expect((await globalThis.fetch(`${guarded.url}/healthz`)).status).toBe(200);
    expect((await globalThis.fetch(`${guarded.url}/u/not-a-token`)).status).not.toBe(401);
  });
});

describe('editor access without EDITOR_TOKEN', () => {
  it('asks this machine for the token made at start too: a loopback peer alone is not enough', async () => {
    expect(server.editor.generated).toBe(true);
    expect(server.editor.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(server.editor.url).toBe(`http://localhost:${new URL(server.url).port}`);
    // What nginx's default proxy_pass sends for any visitor: loopback peer, Host 127.0.0.1:PORT.
    const bare = await globalThis.fetch(`${server.url}/`);
    expect(bare.status).toBe(401);
    expect(await bare.text()).not.toContain('Weeks</h1>');
    const build = await globalThis.fetch(`${server.url}/editor/issues/${WEEK}/build`, {
      method: 'POST',
      headers: { origin: server.url },
    });
    expect(build.status).toBe(401);

    const opened = await globalThis.fetch(`${server.url}/?token=${server.editor.token}`, {
      redirect: 'manual',
    });
    expect(opened.status).toBe(303);
    expect(opened.headers.get('location')).toBe('/');
    const cookie = (opened.headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect((await globalThis.fetch(`${server.url}/`, { headers: { cookie } })).status).toBe(200);
  });

  it('makes a new token at each start', async () => {
    const other = await startServer(app, { port: 0, host: '127.0.0.1' });
    try {
      expect(other.editor.token).not.toBe(server.editor.token);
      const stale = `recap_editor=${encodeURIComponent(server.editor.token)}`;
      expect((await globalThis.fetch(`${other.url}/`, { headers: { cookie: stale } })).status).toBe(401);
    } finally {
      await other.close();
    }
  });
});
