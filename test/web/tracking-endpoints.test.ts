import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { signClickTokens, signToken } from '../../src/tracking/token.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { createTestApp, OLD_SECRET, SECRET, type Seeded, seedIssue } from './web-fixtures.ts';

const BROWSER =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
let app: App;
let server: RunningServer;
let seed: Seeded;
const secrets = { current: SECRET, previous: [] };

beforeAll(async () => {
  app = await createTestApp();
  seed = await seedIssue(app.db);
  server = await startServer(app, { port: 0, host: '127.0.0.1', ackAfterWrite: true });
});
afterAll(async () => {
  await server?.close();
  await app?.close();
});

async function eventsOf(subscriberId: string) {
  return app.db
    .selectFrom('tracking_events')
    .selectAll()
    .where('subscriber_id', '=', subscriberId)
    .orderBy('id')
    .execute();
}

async function clearEvents() {
  await app.db.deleteFrom('tracking_events').execute();
}

const get = (path: string, init: RequestInit = {}) =>
  fetch(`${server.url}${path}`, {
    redirect: 'manual',
    ...init,
    headers: { 'user-agent': BROWSER, ...init.headers },
  });

describe('open pixel GET /o/:token', () => {
  it('answers a no-store GIF and stores the open once answered', async () => {
    await clearEvents();
    const token = signToken(secrets, { kind: 'open', subscriberId: seed.alice, issueId: seed.issueId });
    const response = await get(`/o/${token}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/gif');
    expect(response.headers.get('cache-control')).toContain('no-store');
    const body = Buffer.from(await response.arrayBuffer());
    expect(body.subarray(0, 6).toString()).toBe('GIF89a');
    const events = await eventsOf(seed.alice);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'open', issue_id: seed.issueId, class: 'human', method: 'GET' });
    expect(events[0]?.user_agent).toBe(BROWSER);
  });

  it('answers the same GIF for forged, truncated and wrong-kind tokens and records nothing', async () => {
    await clearEvents();
    const good = signToken(secrets, { kind: 'open', subscriberId: seed.alice, issueId: seed.issueId });
    const forged = good.replace(`.${seed.alice}.`, `.${seed.bob}.`);
    const foreign = signToken(
      { current: 'another-secret-entirely-0123456789abc', previous: [] },
      {
        kind: 'open',
        subscriberId: seed.alice,
        issueId: seed.issueId,
      },
    );
    const wrongKind = signToken(secrets, {
      kind: 'unsubscribe',
      subscriberId: seed.alice,
      issueId: seed.issueId,
    });
    for (const token of [forged, good.slice(0, -3), foreign, wrongKind, 'garbage', '%00']) {
      const response = await get(`/o/${token}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/gif');
    }
    expect(await eventsOf(seed.alice)).toHaveLength(0);
    expect(await eventsOf(seed.bob)).toHaveLength(0);
  });

  it('classifies a HEAD request as a scanner and a proxy user agent as machine', async () => {
    await clearEvents();
    const token = signToken(secrets, { kind: 'open', subscriberId: seed.bob, issueId: seed.issueId });
    expect((await get(`/o/${token}`, { method: 'HEAD' })).status).toBe(200);
    await get(`/o/${token}`, {
      headers: {
        'user-agent':
          'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)',
      },
    });
    const events = await eventsOf(seed.bob);
    expect(events.map((e) => [e.method, e.class, e.reason])).toEqual([
      ['HEAD', 'scanner', 'head-request'],
      ['GET', 'machine', 'gmail-image-proxy'],
    ]);
  });
});

describe('click GET /c/:token', () => {
  it('redirects to the link registered for the issue and position and stores the click', async () => {
    await clearEvents();
    const [token] = signClickTokens(secrets, seed.alice, seed.issueId, [2]);
    const response = await get(`/c/${token}`);
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('https://example.com/story-two');
    const events = await eventsOf(seed.alice);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'click', link_position: 2, class: 'human' });
  });

  it('accepts the generic click token format and tokens signed with a rotated-out secret', async () => {
    const generic = signToken(secrets, {
      kind: 'click',
      subscriberId: seed.alice,
      issueId: seed.issueId,
      link: 1,
    });
    expect((await get(`/c/${generic}`)).headers.get('location')).toBe('https://example.com/story-one');
    const [old] = signClickTokens({ current: OLD_SECRET, previous: [] }, seed.alice, seed.issueId, [3]);
    expect((await get(`/c/${old}`)).headers.get('location')).toBe('https://example.com/story-three');
  });

  it('answers 404 with a plain page and never a redirect for forged, altered, unknown or open-redirect attempts', async () => {
    await clearEvents();
    const [token = ''] = signClickTokens(secrets, seed.alice, seed.issueId, [1]);
    const [unregistered] = signClickTokens(secrets, seed.alice, seed.issueId, [7]);
    const [otherIssue] = signClickTokens(secrets, seed.alice, seed.issueId + 1000, [1]);
    const [foreign] = signClickTokens(
      { current: 'another-secret-entirely-0123456789abc', previous: [] },
      seed.alice,
      seed.issueId,
      [1],
    );
    const attempts = [
      token.replace(`k.${seed.alice}.`, `k.${seed.bob}.`),
      token.replace(/\.1\.([^.]+)$/, '.2.$1'),
      token.slice(0, -4),
      unregistered,
      otherIssue,
      foreign,
      'https%3A%2F%2Fevil.example',
      `${token}?url=https://evil.example`.replace(token, 'x'),
      '..%2F..%2Fevil.example',
    ];
    for (const attempt of attempts) {
      const response = await get(`/c/${attempt}`);
      expect(response.status, attempt).toBe(404);
      expect(response.headers.get('location')).toBeNull();
      expect(response.headers.get('content-type')).toContain('text/html');
      expect(await response.text()).not.toContain('evil.example');
    }
    const withQuery = await get(`/c/${token}?url=https://evil.example&next=//evil.example`);
    expect(withQuery.headers.get('location')).toBe('https://example.com/story-one');
    expect((await eventsOf(seed.bob)).length).toBe(0);
  });

  it('marks the hidden honeypot link and all links within a second as scanner clicks', async () => {
    await clearEvents();
    const [trap] = signClickTokens(secrets, seed.bob, seed.issueId, [99]);
    const honeypot = await get(`/c/${trap}`);
    expect(honeypot.status).toBe(200);
    expect(honeypot.headers.get('location')).toBeNull();
    const tokens = signClickTokens(secrets, seed.alice, seed.issueId, [1, 2, 3]);
    for (const token of tokens) await get(`/c/${token}`);
    expect((await eventsOf(seed.bob)).map((e) => [e.class, e.reason])).toEqual([
      ['scanner', 'honeypot-link'],
    ]);
    const burst = await eventsOf(seed.alice);
    expect(burst.map((e) => e.class)).toEqual(['scanner', 'scanner', 'scanner']);
  });

  it('marks a click within seconds of delivery as a scanner click', async () => {
    await clearEvents();
    await app.db
      .updateTable('deliveries')
      .set({ sent_at: new Date() })
      .where('subscriber_id', '=', seed.bob)
      .execute();
    const [token] = signClickTokens(secrets, seed.bob, seed.issueId, [1]);
    expect((await get(`/c/${token}`)).status).toBe(302);
    expect((await eventsOf(seed.bob)).map((e) => e.reason)).toEqual(['click-within-seconds-of-delivery']);
  });
});

describe('graceful shutdown', () => {
  it('answers at once by default and writes every answered event when the server closes', async () => {
    await clearEvents();
    const quick = await startServer(app, { port: 0, host: '127.0.0.1', events: { maxDelayMs: 60_000 } });
    const token = signToken(secrets, { kind: 'open', subscriberId: seed.bob, issueId: seed.issueId });
    const [click] = signClickTokens(secrets, seed.bob, seed.issueId, [1]);
    for (let i = 0; i < 20; i += 1) expect((await fetch(`${quick.url}/o/${token}`)).status).toBe(200);
    expect((await fetch(`${quick.url}/c/${click}`, { redirect: 'manual' })).status).toBe(302);
    expect(await eventsOf(seed.bob)).toHaveLength(0);
    await quick.close();
    const events = await eventsOf(seed.bob);
    expect(events.filter((e) => e.kind === 'open')).toHaveLength(20);
    expect(events.filter((e) => e.kind === 'click')).toHaveLength(1);
  });
});

describe('every page', () => {
  it('carries the security headers, including on 404 pages', async () => {
    for (const path of ['/healthz', '/c/nope', '/nowhere', '/subscribe']) {
      const response = await get(path);
      expect(response.headers.get('content-security-policy'), path).toContain("frame-ancestors 'self'");
      expect(response.headers.get('content-security-policy'), path).toContain("default-src 'none'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    }
  });
});
