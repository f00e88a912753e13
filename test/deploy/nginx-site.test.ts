// Issue 23: the shipped nginx site (deploy/nginx/recap.conf), run by Debian's nginx with a self-signed
// certificate, in front of the built `recap serve` as docs/deploy.md sets it up (TRUST_PROXY=127.0.0.1,
// EDITOR_TOKEN, https PUBLIC_URL). A reader signs up and confirms, clicks, leaves with one click; an
// editor opens the editor; the server records the visitor's address, not the proxy's or a forged one.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempWorkdir } from '../support/cli.ts';
import { formsOf } from '../support/html-forms.ts';
import {
  nginxDir,
  type ProxiedAnswer,
  proxiedRequest,
  type RunningNginx,
  selfSignedCertificate,
  startNginx,
} from '../support/nginx.ts';
import { linkIn, readOutbox, recipientsOf, waitForMail } from '../support/outbox.ts';
import { freePort, type ServedCli, startServeCli } from '../support/serve-cli.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NAME = 'recap.example.org';
const EDITOR_TOKEN = 'deploy-test-editor-token-0123456789';
const VISITOR = '127.0.0.2';
const dir = tempWorkdir('recap-nginx-site-');
const outbox = path.join(dir, 'outbox');
let env: Record<string, string> = {};
let served: ServedCli;
let nginx: RunningNginx;
let httpsPort = 0;
let httpPort = 0;
let ca = '';
let publicUrl = '';
let week = '';

/**
 * The shipped site with this machine's values: its listen ports, the certificate, the upstream port.
 * Each replacement must apply exactly as often as the site names it, so a change to the site that the
 * test no longer follows fails here instead of testing something else.
 */
function siteFor(upstreamPort: number, cert: { cert: string; key: string }): string {
  let site = readFileSync(path.join(root, 'deploy/nginx/recap.conf'), 'utf8');
  const replace = (from: string | RegExp, to: string, times: number) => {
    const count = site.split(from).length - 1;
    expect(count, `deploy/nginx/recap.conf names ${String(from)} ${times} times`).toBe(times);
    site = site.split(from).join(to);
  };
  replace(/^ *listen \[::\]:\d+.*$/m, '', 2);
  replace('listen 443 ssl;', `listen 127.0.0.1:${httpsPort} ssl;`, 1);
  replace('listen 80;', `listen 127.0.0.1:${httpPort};`, 1);
  replace(`/etc/letsencrypt/live/${NAME}/fullchain.pem`, cert.cert, 1);
  replace(`/etc/letsencrypt/live/${NAME}/privkey.pem`, cert.key, 1);
  replace('server 127.0.0.1:3000;', `server 127.0.0.1:${upstreamPort};`, 1);
  return site;
}

beforeAll(async () => {
  httpsPort = await freePort();
  httpPort = await freePort();
  publicUrl = `https://${NAME}:${httpsPort}`;
  env = {
    RECAP_DATA_DIR: path.join(dir, 'data'),
    RECAP_OUTBOX_DIR: outbox,
    PORT: '0',
    PUBLIC_URL: publicUrl,
    EDITOR_URL: publicUrl,
    // nginx passes the name without the port ($host), as it is on 443.
    EDITOR_HOSTS: NAME,
    EDITOR_TOKEN,
    TRUST_PROXY: '127.0.0.1',
    SIGNUP_MIN_FILL_SECONDS: '0',
    LOG_FORMAT: 'json',
  };
  // A sent issue for the click and the one-click unsubscribe.
  const demo = await runCli(['demo'], env, dir, 280_000);
  expect(demo.stderr).toBe('');
  week = /Weekly AI Recap (\d{4}-W\d{2})/.exec(demo.stdout)?.[1] ?? '';
  served = await startServeCli(env, dir);
  const prefix = nginxDir();
  const cert = selfSignedCertificate(prefix, NAME);
  ca = readFileSync(cert.cert, 'utf8');
  nginx = await startNginx(siteFor(Number(new URL(served.url).port), cert), [httpsPort, httpPort], prefix);
}, 400_000);
afterAll(async () => {
  await nginx?.stop();
  await served?.stop();
});

/** A visitor from 127.0.0.2 through the proxy's https port, checking the certificate against its name. */
function visit(
  target: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<ProxiedAnswer> {
  const local = target.startsWith(publicUrl) ? target.slice(publicUrl.length) : target;
  return proxiedRequest(
    { port: httpsPort, from: VISITOR, tls: { servername: NAME, ca }, hostHeader: `${NAME}:${httpsPort}` },
    local,
    init,
  );
}

const form = (fields: Iterable<[string, string]>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams([...fields]).toString(),
});

interface Recorded {
  consent_log: Array<{ action: string; ip: string | null }>;
  tracking_events: Array<{ kind?: string; ip: string | null }>;
}

/** What the server stored about one reader, as `recap subscriber export` prints it (beside the server). */
async function recordedFor(email: string): Promise<Recorded> {
  const exported = await runCli(['subscriber', 'export', email], env, dir);
  expect(exported.code, exported.stderr).toBe(0);
  return JSON.parse(exported.stdout) as Recorded;
}

describe('the shipped nginx site in front of recap serve', () => {
  it('moves plain http to https, keeping the path', async () => {
    const answer = await proxiedRequest(
      { port: httpPort, from: VISITOR, hostHeader: NAME },
      '/subscribe?x=1',
    );
    expect(answer.status).toBe(301);
    expect(answer.headers.location).toBe(`https://${NAME}/subscribe?x=1`);
  });

  it('signs a reader up and confirms, recording the visitor’s address and never a forged one', async () => {
    const page = await visit('/subscribe');
    expect(page.status).toBe(200);
    expect(page.headers['strict-transport-security']).toBe('max-age=31536000');
    const signUp = formsOf(page.body).find((candidate) => candidate.action === '/subscribe');
    expect(signUp, page.body).toBeDefined();
    const fields = (signUp?.fields ?? []).filter(([name]) => name !== 'email');
    // A forged X-Forwarded-For: the site sets its own, so the server never sees this one.
    const answer = await visit('/subscribe', {
      ...form([...fields, ['email', 'through.proxy@example.com'], ['tracking', 'yes']]),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-forwarded-for': '203.0.113.66',
      },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('confirmation link is on its way');

    const confirmation = await waitForMail(
      async () =>
        (await readOutbox(outbox))
          .map((mail) => mail.parsed)
          .find((mail) => recipientsOf(mail).includes('through.proxy@example.com')),
      'confirmation mail',
    );
    const link = linkIn(confirmation.text, '/confirm/') ?? '';
    expect(link.startsWith(`${publicUrl}/confirm/`)).toBe(true);
    const opened = await visit(link);
    const button = formsOf(opened.body).find((candidate) => candidate.method === 'post');
    const confirmed = button
      ? await visit(new URL(button.action || link, link).pathname, form(button.fields))
      : opened;
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toContain('You are subscribed');

    const consent = (await recordedFor('through.proxy@example.com')).consent_log;
    expect(consent.length, JSON.stringify(consent)).toBeGreaterThanOrEqual(2);
    for (const entry of consent) expect(entry.ip).toBe(VISITOR);
  });

  it('follows a click and takes a one-click unsubscribe (RFC 8058) from the sent issue', async () => {
    const file = (await readOutbox(outbox)).find((mail) => mail.file.startsWith(`recap.${week}.`));
    expect(file, 'a demo issue in the outbox').toBeDefined();
    const issue = await simpleParser(readFileSync(path.join(outbox, file?.file ?? '')));
    const reader = recipientsOf(issue)[0] ?? '';
    const click = linkIn(issue.text, '/c/') ?? '';
    expect(click.startsWith(`${publicUrl}/c/`)).toBe(true);
    const clicked = await visit(click);
    expect(clicked.status).toBe(302);
    expect(clicked.headers.location).toMatch(/^https?:\/\//);

    const header = issue.headerLines.find((line) => line.key === 'list-unsubscribe')?.line ?? '';
    const oneClick = /<(https:[^>]+\/u\/[^>]+)>/.exec(header)?.[1] ?? '';
    expect(oneClick.startsWith(`${publicUrl}/u/`)).toBe(true);
    const left = await visit(oneClick, form([['List-Unsubscribe', 'One-Click']]));
    expect(left.status).toBe(200);
    const recorded = await recordedFor(reader);
    const unsubscribed = recorded.consent_log.find((entry) => entry.action === 'unsubscribe');
    expect(unsubscribed, JSON.stringify(recorded.consent_log)).toBeDefined();
    expect(unsubscribed?.ip).toBe(VISITOR);
    // The click is stored with the visitor's address too (the demo's simulated events carry none).
    const clicks = recorded.tracking_events.filter((event) => event.ip === VISITOR);
    expect(clicks.length, JSON.stringify(recorded.tracking_events)).toBe(1);
  });

  it('opens the editor only with EDITOR_TOKEN, setting a Secure cookie over https', async () => {
    expect((await visit('/')).status).toBe(401);
    expect((await visit('/editor/dashboard')).status).toBe(401);
    const opened = await visit(`/?token=${EDITOR_TOKEN}`);
    expect(opened.status).toBe(303);
    expect(opened.headers.location).toBe('/');
    const setCookie = String(opened.headers['set-cookie'] ?? '');
    expect(setCookie).toContain('HttpOnly; SameSite=Strict; Secure');
    const cookie = setCookie.split(';')[0] as string;
    const weeks = await visit('/', { headers: { cookie } });
    expect(weeks.status).toBe(200);
    expect(weeks.body).toContain(week);
    const bearer = await visit('/editor/dashboard', { headers: { authorization: `Bearer ${EDITOR_TOKEN}` } });
    expect(bearer.status).toBe(200);
  });

  it('refuses a body over the server’s own limit at the proxy (64 KiB outside the ingest API)', async () => {
    const answer = await visit('/subscribe', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `email=${'a'.repeat(70 * 1024)}`,
    });
    expect(answer.status).toBe(413);
  });
});
