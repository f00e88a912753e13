import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { saveIssueRating, saveStoryVote } from '../../src/feedback/feedback.repository.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { formsOf } from '../support/html-forms.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { testApp } from './editor-seed.ts';
import { EDITOR_TOKEN, type SeededReaders, seedReaders } from './readers-seed.ts';

let t: TestDatabase;
let sink: SmtpSink;
let app: App;
let server: RunningServer;
let seeded: SeededReaders;

beforeAll(async () => {
  t = await createTestDatabase();
  sink = await startSmtpSink();
  seeded = await seedReaders(t);
  app = testApp(t, { SMTP_URL: sink.url, EDITOR_TOKEN });
  server = await startServer(app, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server?.close();
  await app?.close();
  await sink?.close();
  await t?.close();
});

const auth = { authorization: `Bearer ${EDITOR_TOKEN}` };
const get = (path: string) => fetch(`${server.url}${path}`, { headers: auth, redirect: 'manual' });
const page = async (path: string) => {
  const response = await get(path);
  expect(response.status).toBe(200);
  return response.text();
};
/** A form post as the editor's own page sends it. */
function post(
  path: string,
  fields: Record<string, string | string[]> = {},
  headers: Record<string, string> = {},
) {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) for (const v of [value].flat()) body.append(key, v);
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded', origin: server.url, ...headers },
    body: body.toString(),
  });
}
function upload(path: string, csv: string, extra: Record<string, string> = {}) {
  const form = new FormData();
  form.append('file', new Blob([csv], { type: 'text/csv' }), 'readers.csv');
  for (const [key, value] of Object.entries(extra)) form.append(key, value);
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { ...auth, origin: server.url },
    body: form,
  });
}
const said = (response: Response) => {
  const params = new URL(response.headers.get('location') ?? '/', 'http://x').searchParams;
  return `${params.get('notice') ?? ''}${params.get('error') ? `error=${params.get('error')}` : ''}`;
};
const listed = (html: string) =>
  [...html.matchAll(/<a class="reader" href="\/editor\/readers\/\d+">([^<]+)<\/a>/g)].map((m) => m[1]);

async function waitForImport(location: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const html = await page(location);
    if (html.includes('id="import-result"')) return html;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the import never finished');
}

describe('the Readers page', () => {
  it('is behind the editor token, and linked from the navigation', async () => {
    expect((await fetch(`${server.url}/editor/readers`)).status).toBe(401);
    expect((await fetch(`${server.url}/editor/readers/export.csv`)).status).toBe(401);
    const weeks = await page('/');
    expect(weeks).toContain('<a href="/editor/readers">Readers</a>');
  });

  it('finds a reader by part of the address and by part of the name, case aside', async () => {
    expect(listed(await page('/editor/readers?q=lytical.ex'))).toEqual(['ada.lovelace@analytical.example']);
    expect(listed(await page('/editor/readers?q=HOPPER'))).toEqual(['g.hopper@navy.example']);
    expect(listed(await page('/editor/readers?q=grace'))).toEqual(['g.hopper@navy.example']);
    // Pattern characters are taken literally.
    expect(listed(await page('/editor/readers?q=%25%25%25'))).toEqual([]);
    const short = await get('/editor/readers?q=ad');
    expect(short.status).toBe(400);
    expect(await short.text()).toContain('at least 3 characters');
  });

  it('filters by status, segment and tracking, counts per status, and pages by keyset', async () => {
    const all = await page('/editor/readers');
    expect(all).toMatch(/All: <strong>6<\/strong>/);
    expect(all).toMatch(/Bounced: <strong>1<\/strong>/);
    expect(listed(await page('/editor/readers?status=bounced'))).toEqual(['g.hopper@navy.example']);
    const segments = await t.db.selectFrom('segments').select(['id', 'slug']).orderBy('id').execute();
    const bySegment = listed(await page(`/editor/readers?segment=${segments[1]?.id}`));
    expect(bySegment).toContain('g.hopper@navy.example');
    expect(bySegment).not.toContain('ada.lovelace@analytical.example');
    expect((await get('/editor/readers?status=everyone')).status).toBe(400);
    await t.db
      .updateTable('subscribers')
      .set({ tracking_enabled: false })
      .where('id', '=', seeded.ada)
      .execute();
    expect(listed(await page('/editor/readers?tracked=no'))).toEqual(['ada.lovelace@analytical.example']);
    await t.db
      .updateTable('subscribers')
      .set({ tracking_enabled: true })
      .where('id', '=', seeded.ada)
      .execute();

    // Six readers, newest first: pages of 50 hold them all; the keyset links carry the filter.
    const first = listed(all);
    expect(first[0]).toBe('g.hopper@navy.example');
    const oldest = await t.db.selectFrom('subscribers').select('id').orderBy('id').limit(2).execute();
    const older = await page(`/editor/readers?after=${oldest[1]?.id}`);
    expect(listed(older)).toEqual(['reader0@example.com']);
    expect(older).toContain('rel="prev"');
    expect(older).not.toContain('rel="next"');
  });

  it("shows a reader's segments, deliveries with opens and clicks, and consent log", async () => {
    const html = await page(`/editor/readers/${seeded.ada}`);
    expect(html).toContain('<title>ada.lovelace@analytical.example');
    expect(html).toContain('Ada Lovelace');
    const w46 = html.split('data-week="2026-W46"')[1]?.split('</tr>')[0] ?? '';
    expect(w46).toContain('data-label="Opens" class="num">2<');
    expect(w46).toContain('data-label="Clicks" class="num">1<');
    // Segments by the names editors gave them, not by slug.
    expect(w46).toMatch(/data-label="Segments">[A-Z][^<]*<\/td>/);
    expect(w46).not.toMatch(/data-label="Segments">[a-z-]+</);
    expect(w46).toContain('data-label="Machine events" class="num">1<');
    expect(html).toContain('data-week="2026-W45"');
    expect(html).toContain('data-action="subscribe"');
    expect(html).toContain('data-action="confirm"');
    expect(html).toContain('203.0.113.9');
    expect(html).toContain('No story votes or issue ratings.');
    const issue = await t.db
      .selectFrom('deliveries')
      .innerJoin('issues', 'issues.id', 'deliveries.issue_id')
      .select(['issues.id', 'issues.week'])
      .where('deliveries.subscriber_id', '=', seeded.ada)
      .orderBy('issues.week', 'desc')
      .executeTakeFirstOrThrow();
    await saveStoryVote(t.db, {
      subscriberId: seeded.ada,
      storyId: 'no-longer-stored',
      issueId: issue.id,
      choice: 'less',
      now: new Date(),
    });
    await saveIssueRating(t.db, { subscriberId: seeded.ada, issueId: issue.id, rating: 3, now: new Date() });
    const answered = await page(`/editor/readers/${seeded.ada}`);
    const vote = answered.split('data-story="no-longer-stored"')[1]?.split('</tr>')[0] ?? '';
    expect(vote).toContain(`>${issue.week}</a>`);
    expect(vote).toContain('data-label="Answer">Less like this<');
    const rating = answered.split(`data-rating-week="${issue.week}"`)[1]?.split('</tr>')[0] ?? '';
    expect(rating).toContain('data-label="Rating">Great<');
    expect((await get('/editor/readers/999999')).status).toBe(404);
    expect((await get('/editor/readers/not-a-number')).status).toBe(404);
  });

  it('shows why an address is suppressed, and unsuppresses it with the reason in the consent log', async () => {
    const html = await page(`/editor/readers/${seeded.grace}`);
    expect(html).toContain('Suppressed: bounced');
    expect(html).toContain('suppressed-hard-bounce');
    expect(html).toContain('user unknown');
    const unsuppress = formsOf(html).find((f) => f.action.endsWith('/unsuppress'));
    expect(unsuppress).toBeDefined();
    expect(said(await post(`/editor/readers/${seeded.grace}/unsuppress`, { reason: '' }))).toMatch(/^error=/);
    const done = await post(`/editor/readers/${seeded.grace}/unsuppress`, {
      reason: 'The mailbox was recreated; she asked by phone.',
    });
    expect(done.status).toBe(303);
    expect(said(done)).toContain('Unsuppressed');
    const row = await t.db
      .selectFrom('subscribers')
      .select(['status'])
      .where('id', '=', seeded.grace)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('active');
    const log = await t.db
      .selectFrom('consent_log')
      .select(['action', 'detail'])
      .where('subscriber_id', '=', seeded.grace)
      .where('action', '=', 'unsuppressed')
      .executeTakeFirstOrThrow();
    expect(log.detail).toMatchObject({
      source: 'editor',
      reason: 'The mailbox was recreated; she asked by phone.',
      previousStatus: 'bounced',
    });
    expect(await page(`/editor/readers/${seeded.grace}`)).toContain('The mailbox was recreated');
  });

  it('refuses a form sent from another site', async () => {
    const forged = await post(
      `/editor/readers/${seeded.ada}/unsubscribe`,
      {},
      { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    );
    expect(forged.status).toBe(403);
    const row = await t.db
      .selectFrom('subscribers')
      .select('status')
      .where('id', '=', seeded.ada)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('active');
  });

  it('edits segments, pauses and unsubscribes; an edit never resubscribes', async () => {
    const segments = await t.db.selectFrom('segments').select('id').orderBy('id').execute();
    const ids = segments.map((s) => String(s.id));
    expect(said(await post(`/editor/readers/${seeded.ada}/segments`, { segment: ids }))).toBe(
      'Segments saved.',
    );
    expect(said(await post(`/editor/readers/${seeded.ada}/segments`, {}))).toMatch(
      /^error=Choose at least one/,
    );
    expect(said(await post(`/editor/readers/${seeded.ada}/pause`, { weeks: '3' }))).toBe(
      'Paused for 3 weeks.',
    );
    expect(said(await post(`/editor/readers/${seeded.ada}/pause`, { weeks: '99' }))).toMatch(/^error=/);
    expect(said(await post(`/editor/readers/${seeded.ada}/unsubscribe`))).toBe('Unsubscribed.');
    expect(said(await post(`/editor/readers/${seeded.ada}/segments`, { segment: ids[0] ?? '' }))).toBe(
      'Segments saved.',
    );
    const row = await t.db
      .selectFrom('subscribers')
      .select(['status', 'paused_until'])
      .where('id', '=', seeded.ada)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('unsubscribed');
    expect(row.paused_until?.getTime()).toBeGreaterThan(Date.now() + 20 * 86_400_000);
    const actions = await t.db
      .selectFrom('consent_log')
      .select('action')
      .where('subscriber_id', '=', seeded.ada)
      .execute();
    expect(actions.map((a) => a.action)).toEqual(expect.arrayContaining(['preferences', 'unsubscribe']));
  });

  it('adds one reader as confirmed, with the stated basis in the consent log', async () => {
    const segment = await t.db.selectFrom('segments').select('id').orderBy('id').executeTakeFirstOrThrow();
    const form = formsOf(await page('/editor/readers/add')).find((f) => f.action === '/editor/readers/add');
    expect(form?.method).toBe('post');
    const refused = await post('/editor/readers/add', {
      email: 'x,someone@example.org',
      segment: String(segment.id),
      basis: 'asked in person',
    });
    expect(refused.status).toBe(400);
    const added = await post('/editor/readers/add', {
      email: ' Katherine.Johnson@NASA.example ',
      name: 'Katherine Johnson',
      segment: String(segment.id),
      basis: 'Asked at our stand, 2026-12-01',
    });
    expect(added.status).toBe(303);
    expect(said(added)).toContain('Added');
    const row = await t.db
      .selectFrom('subscribers')
      .select(['id', 'status', 'confirmed_at'])
      .where('email', '=', 'katherine.johnson@nasa.example')
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('active');
    expect(row.confirmed_at).not.toBeNull();
    const log = await t.db
      .selectFrom('consent_log')
      .select(['action', 'detail'])
      .where('subscriber_id', '=', row.id)
      .executeTakeFirstOrThrow();
    expect(log.action).toBe('added');
    expect(log.detail).toMatchObject({ source: 'editor', basis: 'Asked at our stand, 2026-12-01' });
    const again = await post('/editor/readers/add', {
      email: 'katherine.johnson@nasa.example',
      segment: String(segment.id),
      basis: 'again, twice',
    });
    expect(said(again)).toMatch(/already a reader/);
  });

  it('imports a CSV through the server: line-numbered errors refuse the file, skip-invalid imports the good rows', async () => {
    const csv = [
      'email,name,segments',
      'alan.turing@bletchley.example,Alan Turing,Engineers & Developers',
      'not-an-address,Nobody,Engineers & Developers',
      '',
      'edsger@example.org,Edsger,Unknown Segment',
      'barbara.liskov@mit.example,Barbara Liskov,policy-legal',
    ].join('\n');
    const refused = await upload('/editor/readers/import', csv);
    expect(refused.status).toBe(303);
    const refusedPage = await waitForImport(refused.headers.get('location') ?? '');
    expect(refusedPage).toContain('Nothing imported: 2 of 4 records are invalid');
    expect(refusedPage).toMatch(
      /record 2, line 3 \(id &quot;not-an-address&quot;\): email: is not a valid email address/,
    );
    expect(refusedPage).toContain('record 3, line 5');
    expect(refusedPage).toContain('unknown segment &quot;Unknown Segment&quot;');
    expect(
      await t.db
        .selectFrom('subscribers')
        .select('id')
        .where('email', '=', 'alan.turing@bletchley.example')
        .executeTakeFirst(),
    ).toBeUndefined();

    const skipped = await upload('/editor/readers/import', csv, { skip_invalid: 'yes' });
    const done = await waitForImport(skipped.headers.get('location') ?? '');
    expect(done).toContain('Imported 2 readers (2 new, 0 updated, 0 unchanged, 2 invalid rows skipped)');
    expect(done).toContain('line 3');
    const imported = await t.db
      .selectFrom('subscribers')
      .select(['email', 'status'])
      .where('email', 'in', ['alan.turing@bletchley.example', 'barbara.liskov@mit.example'])
      .orderBy('email')
      .execute();
    expect(imported).toEqual([
      { email: 'alan.turing@bletchley.example', status: 'active' },
      { email: 'barbara.liskov@mit.example', status: 'active' },
    ]);
    const id = (skipped.headers.get('location') ?? '').split('/').pop();
    const progress = await (await get(`/editor/readers/import/${id}/progress.json`)).json();
    expect(progress).toMatchObject({ status: 'done', over: true, rowsRead: 4 });
  });

  it('refuses an empty upload and a file without an email column', async () => {
    const empty = await post('/editor/readers/import', {});
    expect(empty.status).toBe(400);
    const noEmail = await upload('/editor/readers/import', 'name,segments\nAda,Investors\n');
    expect(await waitForImport(noEmail.headers.get('location') ?? '')).toContain(
      'line 1: header: needs an &quot;email&quot; column',
    );
  });

  it('exports the filtered list as CSV, formulas defused', async () => {
    await t.db
      .updateTable('subscribers')
      .set({ name: '=HYPERLINK("http://evil.example")' })
      .where('id', '=', seeded.grace)
      .execute();
    const response = await get('/editor/readers/export.csv?q=hopper');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/csv');
    expect(response.headers.get('content-disposition')).toMatch(
      /attachment; filename="readers-\d{4}-\d\d-\d\d\.csv"/,
    );
    const lines = (await response.text()).trim().split('\n');
    expect(lines[0]).toBe('email,name,segments,timezone,tracking,status,created_at');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(
      /^g\.hopper@navy\.example,"'=HYPERLINK\(""http:\/\/evil\.example""\)",Policy & Legal,,yes,active,/,
    );
    const everyone = (await (await get('/editor/readers/export.csv')).text()).trim().split('\n');
    const count = await t.db
      .selectFrom('subscribers')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('status', '<>', 'erased')
      .executeTakeFirstOrThrow();
    expect(everyone).toHaveLength(Number(count.n) + 1);
  });

  it('other routes still refuse files: only the import takes one', async () => {
    const form = new FormData();
    form.append('file', new Blob(['email\nx@example.com\n'], { type: 'text/csv' }), 'x.csv');
    for (const path of ['/subscribe', `/editor/readers/${seeded.ada}/unsuppress`, '/editor/readers/add']) {
      const response = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { ...auth, origin: server.url },
        body: form,
      });
      expect(response.status, path).toBe(413);
    }
  });

  it('erases a reader only once the address is typed again', async () => {
    const confirm = await page(`/editor/readers/${seeded.grace}/erase`);
    expect(
      formsOf(confirm)
        .find((f) => f.action.endsWith('/erase'))
        ?.fields.map(([name]) => name),
    ).toEqual(['confirm']);
    const wrong = await post(`/editor/readers/${seeded.grace}/erase`, { confirm: 'someone@else.example' });
    expect(wrong.status).toBe(400);
    expect(
      await t.db.selectFrom('subscribers').select('id').where('id', '=', seeded.grace).executeTakeFirst(),
    ).toBeDefined();
    const erased = await post(`/editor/readers/${seeded.grace}/erase`, { confirm: 'G.Hopper@navy.example' });
    expect(erased.status).toBe(303);
    expect(
      await t.db.selectFrom('subscribers').select('id').where('id', '=', seeded.grace).executeTakeFirst(),
    ).toBeUndefined();
    expect((await get(`/editor/readers/${seeded.grace}`)).status).toBe(404);
    expect(listed(await page('/editor/readers?q=hopper'))).toEqual([]);
  });
});
