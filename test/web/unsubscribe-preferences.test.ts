import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { signToken } from '../../src/tracking/token.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { createTestApp, SECRET, type Seeded, seedIssue } from './web-fixtures.ts';

let app: App;
let server: RunningServer;
let seed: Seeded;
const secrets = { current: SECRET, previous: [] };

beforeAll(async () => {
  app = await createTestApp();
  seed = await seedIssue(app.db);
  server = await startServer(app, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server?.close();
  await app?.close();
});
beforeEach(async () => {
  await app.db
    .updateTable('subscribers')
    .set({ status: 'active', unsubscribed_at: null, paused_until: null })
    .execute();
  await app.db.deleteFrom('consent_log').execute();
});

const statusOf = async (id: string) =>
  (await app.db.selectFrom('subscribers').select('status').where('id', '=', id).executeTakeFirstOrThrow())
    .status;
const consentOf = (id: string) =>
  app.db.selectFrom('consent_log').selectAll().where('subscriber_id', '=', id).orderBy('id').execute();
const unsubscribeToken = (id: string) =>
  signToken(secrets, { kind: 'unsubscribe', subscriberId: id, issueId: seed.issueId });
const oneClick = (token: string, body: BodyInit, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/u/${token}`, { method: 'POST', body, headers, redirect: 'manual' });

describe('unsubscribe /u/:token (RFC 8058)', () => {
  it('GET shows a confirm button and never unsubscribes', async () => {
    const response = await fetch(`${server.url}/u/${unsubscribeToken(seed.alice)}`, { redirect: 'manual' });
    expect(response.status).toBe(200);
    const page = await response.text();
    expect(page).toContain('<form method="post"');
    expect(page).toContain('name="List-Unsubscribe" value="One-Click"');
    expect(page).not.toContain('alice@example.org');
    expect(await statusOf(seed.alice)).toBe('active');
    expect(await consentOf(seed.alice)).toHaveLength(0);
  });

  it('POST List-Unsubscribe=One-Click (urlencoded) unsubscribes with 200, no redirect, no cookie, idempotently', async () => {
    const token = unsubscribeToken(seed.alice);
    const first = await oneClick(token, 'List-Unsubscribe=One-Click', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(first.status).toBe(200);
    expect(first.headers.get('location')).toBeNull();
    expect(first.headers.get('set-cookie')).toBeNull();
    expect(await statusOf(seed.alice)).toBe('unsubscribed');
    const again = await oneClick(token, 'List-Unsubscribe=One-Click', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(again.status).toBe(200);
    const consent = await consentOf(seed.alice);
    expect(consent).toHaveLength(1);
    expect(consent[0]).toMatchObject({ action: 'unsubscribe', ip: '127.0.0.1' });
    expect(consent[0]?.detail).toMatchObject({ source: 'one-click', issueId: seed.issueId });
    expect(await statusOf(seed.bob)).toBe('active');
  });

  it('POST with a multipart/form-data body unsubscribes too', async () => {
    const form = new FormData();
    form.set('List-Unsubscribe', 'One-Click');
    const response = await oneClick(unsubscribeToken(seed.bob), form);
    expect(response.status).toBe(200);
    expect(await statusOf(seed.bob)).toBe('unsubscribed');
  });

  it('the page after unsubscribing offers undo and a preferences link; undo resubscribes', async () => {
    const token = unsubscribeToken(seed.alice);
    const page = await (
      await oneClick(token, new URLSearchParams({ 'List-Unsubscribe': 'One-Click', action: 'unsubscribe' }))
    ).text();
    expect(page).toContain('name="action" value="resubscribe"');
    expect(page).toMatch(/href="\/p\/p\.[^"]+"/);
    expect(await statusOf(seed.alice)).toBe('unsubscribed');
    const undo = await oneClick(token, new URLSearchParams({ action: 'resubscribe' }));
    expect(undo.status).toBe(200);
    expect(await statusOf(seed.alice)).toBe('active');
    expect(
      (await consentOf(seed.alice)).map((c) => [c.action, (c.detail as { source: string }).source]),
    ).toEqual([
      ['unsubscribe', 'web'],
      ['resubscribe', 'web'],
    ]);
  });

  it('a POST without List-Unsubscribe=One-Click changes nothing', async () => {
    const response = await oneClick(
      unsubscribeToken(seed.alice),
      new URLSearchParams({ 'List-Unsubscribe': 'Maybe' }),
    );
    expect(response.status).toBe(400);
    expect(await statusOf(seed.alice)).toBe('active');
  });

  it('forged, truncated, swapped, wrong-kind and foreign-secret tokens get 404 and change nothing', async () => {
    const good = unsubscribeToken(seed.alice);
    const attempts = [
      good.replace(`u.${seed.alice}.`, `u.${seed.bob}.`),
      good.slice(0, -2),
      signToken(secrets, { kind: 'preferences', subscriberId: seed.bob }),
      signToken(
        { current: 'another-secret-entirely-0123456789abc', previous: [] },
        { kind: 'unsubscribe', subscriberId: seed.bob },
      ),
      'u.1...AAAAAAAAAAAAAAAA',
    ];
    for (const token of attempts) {
      const response = await oneClick(token, 'List-Unsubscribe=One-Click', {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(response.status, token).toBe(404);
      expect((await fetch(`${server.url}/u/${token}`)).status).toBe(404);
    }
    expect(await statusOf(seed.alice)).toBe('active');
    expect(await statusOf(seed.bob)).toBe('active');
  });
});

describe('preferences /p/:token', () => {
  const preferencesToken = (id: string) => signToken(secrets, { kind: 'preferences', subscriberId: id });
  const post = (token: string, body: URLSearchParams) =>
    fetch(`${server.url}/p/${token}`, { method: 'POST', body });

  it('shows the segments with the followed ones checked, every text escaped', async () => {
    await app.db
      .insertInto('segments')
      .values({ name: '<script>alert(1)</script> & Co', slug: 'script-co' })
      .execute();
    const page = await (await fetch(`${server.url}/p/${preferencesToken(seed.alice)}`)).text();
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co');
    expect(page).not.toContain('<script>');
    expect(page).toMatch(new RegExp(`value="${seed.segments[0]?.id}" checked`));
    await app.db.deleteFrom('segments').where('slug', '=', 'script-co').execute();
  });

  it('saves segments and a pause of N weeks with a consent record', async () => {
    const token = preferencesToken(seed.alice);
    const founders = seed.segments.find((s) => s.slug === 'founders');
    const response = await post(
      token,
      new URLSearchParams([
        ['segment', String(founders?.id)],
        ['pause_weeks', '4'],
        ['action', 'save'],
      ]),
    );
    expect(response.status).toBe(200);
    const subs = await app.db
      .selectFrom('subscriptions')
      .select('segment_id')
      .where('subscriber_id', '=', seed.alice)
      .execute();
    expect(subs.map((s) => s.segment_id)).toEqual([founders?.id]);
    const row = await app.db
      .selectFrom('subscribers')
      .select('paused_until')
      .where('id', '=', seed.alice)
      .executeTakeFirstOrThrow();
    const weeks = ((row.paused_until?.getTime() ?? 0) - Date.now()) / (7 * 86_400_000);
    expect(weeks).toBeGreaterThan(3.9);
    expect(weeks).toBeLessThanOrEqual(4);
    const consent = await consentOf(seed.alice);
    expect(consent.map((c) => c.action)).toEqual(['preferences']);
    expect(consent[0]?.detail).toMatchObject({ segmentIds: [founders?.id] });
  });

  it('unsubscribes from all, and choosing segments again resubscribes', async () => {
    const token = preferencesToken(seed.bob);
    expect((await post(token, new URLSearchParams({ action: 'unsubscribe' }))).status).toBe(200);
    expect(await statusOf(seed.bob)).toBe('unsubscribed');
    const engineers = seed.segments.find((s) => s.slug === 'engineers');
    await post(
      token,
      new URLSearchParams([
        ['segment', String(engineers?.id)],
        ['pause_weeks', '0'],
        ['action', 'save'],
      ]),
    );
    expect(await statusOf(seed.bob)).toBe('active');
  });

  it('refuses a forged or swapped token and an unknown pause', async () => {
    const token = preferencesToken(seed.alice);
    const swapped = token.replace(`p.${seed.alice}.`, `p.${seed.bob}.`);
    expect((await fetch(`${server.url}/p/${swapped}`)).status).toBe(404);
    expect((await post(swapped, new URLSearchParams({ action: 'unsubscribe' }))).status).toBe(404);
    expect((await post(token, new URLSearchParams({ action: 'save', pause_weeks: '1000' }))).status).toBe(
      400,
    );
    expect(await statusOf(seed.bob)).toBe('active');
  });
});
