import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type ParsedMail, simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { runDemo } from '../../src/cli/run-demo.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { createTestApp } from './web-fixtures.ts';

// The demo's sent emails, followed link by link against the running server: everything a reader touches.
let app: App;
let server: RunningServer;
let mail: ParsedMail;
let recipient: string;

beforeAll(async () => {
  app = await createTestApp();
  // No simulated readers: these tests count the events their own requests cause.
  await runDemo(app, { week: '2026-W48', now: new Date('2026-11-30T07:00:00Z'), simulateReaders: false });
  const file = readdirSync(app.config.outboxDir).find((name) => name.endsWith('.eml'));
  mail = await simpleParser(readFileSync(path.join(app.config.outboxDir, file ?? 'missing')));
  recipient = (mail.to && !Array.isArray(mail.to) ? mail.to.value[0]?.address : undefined) ?? '';
  server = await startServer(app, { port: 0, host: '127.0.0.1', ackAfterWrite: true });
});
afterAll(async () => {
  await server?.close();
  await app?.close();
});

/** A PUBLIC_URL link from the email, fetched from the test server instead. */
const local = (publicLink: string) => `${server.url}${new URL(publicLink).pathname}`;
const links = (prefix: string) => [
  ...new Set((mail.html || '').match(new RegExp(`http://recap\\.test/${prefix}/[^"'\\s<>]+`, 'g')) ?? []),
];
const subscriberId = async () =>
  await app.db
    .selectFrom('subscribers')
    .select(['id', 'status'])
    .where('email', '=', recipient)
    .executeTakeFirstOrThrow();

describe('links of a sent demo email', () => {
  it('the pixel answers a GIF and records an open for the recipient', async () => {
    const [pixel] = links('o');
    expect(pixel).toBeDefined();
    const response = await fetch(local(pixel ?? ''), { headers: { 'user-agent': 'Thunderbird/128.0' } });
    expect(response.headers.get('content-type')).toBe('image/gif');
    const { id } = await subscriberId();
    const opens = await app.db
      .selectFrom('tracking_events')
      .selectAll()
      .where('subscriber_id', '=', id)
      .execute();
    expect(opens.map((e) => e.kind)).toEqual(['open']);
  });

  it('every story link redirects to the registered URL; the hidden honeypot link does not', async () => {
    const clicks = links('c');
    expect(clicks.length).toBeGreaterThan(2);
    const registered = new Map(
      (await app.db.selectFrom('issue_links').select(['url', 'kind']).execute()).map((row) => [
        row.url,
        row.kind,
      ]),
    );
    let redirects = 0;
    for (const click of clicks) {
      const response = await fetch(local(click), { redirect: 'manual' });
      const location = response.headers.get('location');
      if (response.status === 302) {
        redirects += 1;
        expect(registered.get(location ?? ''), click).not.toBe('honeypot');
        expect(registered.has(location ?? '')).toBe(true);
      } else {
        expect(response.status, click).toBe(200);
        expect(location).toBeNull();
      }
    }
    expect(redirects).toBeGreaterThan(2);
    const { id } = await subscriberId();
    const events = await app.db
      .selectFrom('tracking_events')
      .selectAll()
      .where('subscriber_id', '=', id)
      .where('kind', '=', 'click')
      .execute();
    expect(events).toHaveLength(clicks.length);
    const trapped = events.filter((e) => e.reason === 'honeypot-link');
    expect(trapped).toHaveLength(clicks.length - redirects);
    expect(trapped.every((e) => e.class === 'scanner')).toBe(true);
  });

  it('the archive lists the issue and shows the edition without personal links', async () => {
    const index = await (await fetch(`${server.url}/archive`)).text();
    expect(index).toContain('href="/archive/2026-W48"');
    const issue = await (await fetch(`${server.url}/archive/2026-W48`)).text();
    expect(issue).not.toMatch(/\/(o|c|u|p)\/[a-z]\.[0-9]/);
    // The mail's "View in browser" link: the edition as this reader got it.
    const editionPath = /http:\/\/recap\.test(\/archive\/2026-W48\/[^"]+)"/.exec(mail.html || '')?.[1];
    expect(editionPath).toBeDefined();
    const edition = await fetch(`${server.url}${editionPath}`);
    expect(edition.status).toBe(200);
    const page = await edition.text();
    expect(page).toContain('<html');
    expect(page).not.toMatch(/\/(o|c|u|p)\/[a-z]\.[0-9]/);
    expect((await fetch(`${server.url}/archive/2026-W01/engineers`)).status).toBe(404);
    expect((await fetch(`${server.url}/archive/2026-W48/<script>`)).status).toBe(404);
  });

  it('the List-Unsubscribe header URL unsubscribes with a one-click POST', async () => {
    const header =
      mail.headerLines.find((h) => h.key === 'list-unsubscribe')?.line.replace(/\r?\n\s+/g, ' ') ?? '';
    const url = /<(http:\/\/recap\.test\/u\/[^>]+)>/.exec(header)?.[1];
    expect(url).toBeDefined();
    expect(header).toMatch(/<mailto:unsubscribe\+[^>@]+@[^>]+>/);
    expect(mail.headerLines.find((h) => h.key === 'list-unsubscribe-post')?.line).toContain(
      'List-Unsubscribe=One-Click',
    );
    expect((await fetch(local(url ?? ''))).status).toBe(200);
    expect((await subscriberId()).status).toBe('active');
    const response = await fetch(local(url ?? ''), {
      method: 'POST',
      body: new URLSearchParams({ 'List-Unsubscribe': 'One-Click' }),
    });
    expect(response.status).toBe(200);
    expect((await subscriberId()).status).toBe('unsubscribed');
  });
});
