import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { loadConfig } from '../../src/config.ts';
import { type DoctorCheck, runDoctor } from '../../src/doctor/run-doctor.ts';
import { signProbeToken } from '../../src/tracking/probe-token.ts';
import { signToken } from '../../src/tracking/token.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { runCli } from '../support/cli.ts';
import { testDatabaseUrl } from '../support/database.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { createTestApp, SECRET, type Seeded, seedIssue } from '../web/web-fixtures.ts';
import { type DnsServer, startDnsServer } from './dns-server.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'recap-doctor-'));
/** One embedded database folder for every run without TEST_DATABASE_URL: reopened, not created, each time. */
const dataDir = path.join(dir, 'data');

/** An RSA key pair: the private key in a PEM file, the public key as a DKIM TXT record. */
function dkimKey(name: string): { file: string; record: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const file = path.join(dir, `${name}.pem`);
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  return { file, record: `v=DKIM1; k=rsa; p=${p}` };
}

const good = dkimKey('good');
const other = dkimKey('other');

let dns: DnsServer;
let app: App;
let server: RunningServer;
let seed: Seeded;
let sink: SmtpSink;
/** TLS in front of the web server, with a self-signed certificate the child process is told to trust. */
let tlsProxy: Server;
let httpsUrl: string;
const certFile = path.join(dir, 'cert.pem');

beforeAll(async () => {
  dns = await startDnsServer({
    'good.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
    'recap._domainkey.good.test': { TXT: [good.record] },
    '_dmarc.good.test': { TXT: ['v=DMARC1; p=quarantine; adkim=s'] },
    // A bounce subdomain of its own, received by an MTA that forwards to the listener.
    'bounces.good.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'], MX: ['mx.good.test'] },
    // Publishes DMARC, but its mail is signed and bounced by good.test: not aligned.
    'misaligned.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
    '_dmarc.misaligned.test': { TXT: ['v=DMARC1; p=reject'] },
    // SPF names another host, the DKIM record holds another key, no DMARC.
    'bad.test': { TXT: ['v=spf1 ip4:192.0.2.99 -all'] },
    'recap._domainkey.bad.test': { TXT: [other.record] },
  });
  app = await createTestApp();
  seed = await seedIssue(app.db);
  server = await startServer(app, { port: 0, host: '127.0.0.1' });
  sink = await startSmtpSink();
  const keyFile = path.join(dir, 'tls-key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  const backend = new URL(server.url);
  tlsProxy = createTlsServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (socket) => {
    const upstream = connect(Number(backend.port), backend.hostname);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => tlsProxy.listen(0, '127.0.0.1', resolve));
  httpsUrl = `https://127.0.0.1:${(tlsProxy.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => tlsProxy?.close(resolve));
  await sink?.close();
  await server?.close();
  await app?.close();
  await dns?.close();
});

function env(domain: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    RECAP_SECRET: SECRET,
    RECAP_DATA_DIR: dataDir,
    RECAP_FROM_EMAIL: `recap@${domain}`,
    DKIM_DOMAIN: domain,
    DKIM_SELECTOR: 'recap',
    DKIM_PRIVATE_KEY_FILE: good.file,
    PUBLIC_URL: server.url,
    SMTP_URL: sink.url,
    ...(testDatabaseUrl ? { DATABASE_URL: testDatabaseUrl } : {}),
    ...extra,
  };
}

const doctor = (vars: Record<string, string>, options: { sendingIps?: string[] } = {}) =>
  runDoctor({
    config: loadConfig(vars, { dotenvPath: '/nonexistent/.env' }),
    dnsServer: dns.address,
    timeoutMs: 5000,
    ...options,
  });

const byName = (checks: DoctorCheck[], pattern: RegExp) => {
  const found = checks.find((check) => pattern.test(check.name));
  if (!found) throw new Error(`no check ${pattern}: ${checks.map((c) => c.name).join(', ')}`);
  return found;
};

// The first run opens the embedded database (without TEST_DATABASE_URL): slow on a busy machine.
describe('recap doctor: what a receiver checks', { timeout: 120_000 }, () => {
  it('passes SPF, DKIM and DMARC for a domain whose records match, through the local DNS server', async () => {
    const checks = await doctor(env('good.test'));
    expect(byName(checks, /^SPF for good.test authorises 127.0.0.1$/)).toMatchObject({ ok: true });
    expect(byName(checks, /^SPF/).detail).toContain('v=spf1 ip4:127.0.0.1 -all');
    expect(byName(checks, /^DKIM key recap._domainkey.good.test matches/)).toMatchObject({ ok: true });
    expect(byName(checks, /^DMARC for good.test/)).toMatchObject({ ok: true });
    expect(byName(checks, /^DMARC/).detail).toMatch(/p=quarantine; aligned by DKIM .* and SPF/);
    expect(dns.asked).toContain('TXT recap._domainkey.good.test');
    expect(byName(checks, /^SMTP reachable/)).toMatchObject({ ok: true });
    expect(byName(checks, /^Database reachable/)).toMatchObject({ ok: true });
  });

  it('fails SPF for an unlisted host, DKIM for another key and DMARC when none is published', async () => {
    const checks = await doctor(env('bad.test'), { sendingIps: ['203.0.113.5'] });
    const spf = byName(checks, /^SPF for bad.test authorises 203.0.113.5$/);
    expect(spf.ok).toBe(false);
    expect(spf.detail).toMatch(/^fail \(v=spf1 ip4:192.0.2.99 -all\)/);
    const dkim = byName(checks, /^DKIM key recap._domainkey.bad.test matches/);
    expect(dkim.ok).toBe(false);
    expect(dkim.detail).toMatch(/^(fail|neutral)/);
    expect(byName(checks, /^DMARC for bad.test/)).toMatchObject({
      ok: false,
      detail: 'no DMARC record at _dmarc.bad.test',
    });
  });

  it('fails DMARC when the record exists but neither DKIM nor the envelope domain aligns with From', async () => {
    const checks = await doctor(
      env('misaligned.test', { DKIM_DOMAIN: 'good.test', BOUNCE_DOMAIN: 'good.test' }),
    );
    expect(byName(checks, /^SPF for good.test authorises 127.0.0.1$/).ok).toBe(true);
    expect(byName(checks, /^DKIM key recap._domainkey.good.test/).ok).toBe(true);
    const dmarc = byName(checks, /^DMARC for misaligned.test/);
    expect(dmarc.ok).toBe(false);
    expect(dmarc.detail).toMatch(/^fail: neither .* aligns with misaligned.test/);
  });

  it('warns, without failing, that an email service reports bounces by a webhook none is configured for', async () => {
    const checks = await doctor(env('good.test', { SMTP_URL: 'smtp://apikey:x@smtp.sendgrid.net:587' }), {
      sendingIps: ['127.0.0.1'],
    });
    const route = byName(checks, /^Bounce route$/);
    expect(route).toMatchObject({ ok: true, warning: true });
    expect(route.detail).toMatch(
      /^SendGrid reports bounces and complaints by webhook, and no webhook is configured/,
    );
    expect(route.fix).toContain('`recap doctor` warns');
    expect(byName(checks, /^SPF/).fix ?? '').not.toContain('sendgrid');
  });

  it('passes the bounce route of an MX that delivers to the bounce mailbox instead of the listener', async () => {
    const vars = env('good.test', {
      BOUNCE_DOMAIN: 'bounces.good.test',
      BOUNCE_IMAP_URL: 'imaps://bounces:secret-password@imap.good.test/INBOX',
    });
    const route = byName(await doctor(vars), /^Bounce route$/);
    expect(route).toMatchObject({
      ok: true,
      detail:
        'MX mx.good.test for bounces.good.test; the bounce mailbox imaps://bounces:***@imap.good.test/INBOX is polled',
    });
    // Without the mailbox and without the listener, the MX leads nowhere.
    const without = byName(
      await doctor(env('good.test', { BOUNCE_DOMAIN: 'bounces.good.test' })),
      /^Bounce route$/,
    );
    expect(without.ok).toBe(false);
    expect(without.fix).toContain('BOUNCE_IMAP_URL');
  });

  it('fails the bounce route of an own MTA without an MX, printing the MX and the forwarding', async () => {
    const checks = await doctor(
      env('good.test', { BOUNCE_DOMAIN: 'bounces.bad.test', BOUNCE_SMTP_PORT: '2525' }),
    );
    const route = byName(checks, /^Bounce route$/);
    expect(route).toMatchObject({
      ok: false,
      detail: 'no MX for bounces.bad.test: bounces+…@ mail has nowhere to go',
    });
    expect(route.fix).toContain('bounces.bad.test. 3600 IN MX 10 <host name of your MTA>.');
    expect(route.fix).toContain(
      '/^(bounces|unsubscribe)\\+.*@bounces\\.bad\\.test$/   smtp:[127.0.0.1]:2525',
    );
  });

  it('reports an unset PUBLIC_URL as a failed check', async () => {
    const checks = await doctor({ ...env('good.test'), PUBLIC_URL: '' });
    expect(byName(checks, /^PUBLIC_URL set$/)).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/^unset: links in mail point at http:\/\/localhost:3000 /),
    });
    expect(byName(await doctor(env('good.test')), /^PUBLIC_URL set$/).ok).toBe(true);
  });

  it('reports missing DKIM, a weak secret, http PUBLIC_URL and an unreachable SMTP server', async () => {
    const checks = await doctor({
      NODE_ENV: 'test',
      RECAP_SECRET: 'x'.repeat(40),
      RECAP_DATA_DIR: dataDir,
      RECAP_FROM_EMAIL: 'recap@good.test',
      PUBLIC_URL: server.url,
      SMTP_URL: 'smtp://127.0.0.1:1',
      ...(testDatabaseUrl ? { DATABASE_URL: testDatabaseUrl } : {}),
    });
    expect(byName(checks, /^DKIM$/)).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/not configured/),
    });
    expect(byName(checks, /^RECAP_SECRET strength/)).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/^RECAP_SECRET .*repeat/),
    });
    expect(byName(checks, /^PUBLIC_URL uses https/).ok).toBe(false);
    expect(byName(checks, /^PUBLIC_URL reachable/).ok).toBe(true);
    // Signed with another secret than the server's: the probe is refused like any forged token.
    expect(byName(checks, /^One-click unsubscribe/)).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/answered 404/),
    });
    expect(byName(checks, /^SMTP reachable/)).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/ECONNREFUSED/),
    });
  });
});

describe('every relay', { timeout: 120_000 }, () => {
  it('checks each relay of SMTP_URLS and SYSTEM_SMTP_URL, naming the one that fails', async () => {
    const { SMTP_URL: _one, ...rest } = env('good.test');
    const checks = await doctor({
      ...rest,
      SMTP_URLS: `${sink.url}?weight=3,smtp://127.0.0.1:1`,
      SYSTEM_SMTP_URL: 'smtp://127.0.0.1:2',
    });
    const relayChecks = checks.filter((check) => check.name.startsWith('SMTP reachable ('));
    expect(relayChecks).toHaveLength(2);
    expect(relayChecks[0]).toMatchObject({ ok: true });
    expect(relayChecks[1]).toMatchObject({
      name: 'SMTP reachable (127.0.0.1:1)',
      ok: false,
      detail: expect.stringMatching(/ECONNREFUSED/),
      fix: expect.stringMatching(/SMTP_URLS .*127\.0\.0\.1:1/),
    });
    expect(byName(checks, /^System mail SMTP reachable$/)).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/127\.0\.0\.1:2.*ECONNREFUSED/),
      fix: expect.stringMatching(/^SYSTEM_SMTP_URL=/),
    });
  });
});

describe('a certificate readers would not trust', () => {
  it('says so under both checks that reach PUBLIC_URL, with the certificate as the fix, not "start recap serve"', async () => {
    // This process is not told to trust the self-signed certificate, as no reader's browser would be.
    const checks = await doctor(env('good.test', { PUBLIC_URL: httpsUrl }));
    for (const name of [/^PUBLIC_URL reachable$/, /^One-click unsubscribe answers POST$/]) {
      const check = byName(checks, name);
      expect(check).toMatchObject({ ok: false, detail: expect.stringMatching(/self-signed certificate/) });
      expect(check.fix).toMatch(
        /certificate for 127\.0\.0\.1 is not one browsers trust \(DEPTH_ZERO_SELF_SIGNED_CERT\)/,
      );
      expect(check.fix).toMatch(/certbot certonly --webroot -w \/var\/www\/html -d 127\.0\.0\.1/);
      expect(check.fix).not.toMatch(/start recap serve/);
    }
  });

  it('prints a fix under the probe when the proxy answers 502 for a server that is not running', async () => {
    const proxy = createHttpServer((_request, response) => {
      response.writeHead(502, { 'content-type': 'text/html' });
      response.end('<h1>502 Bad Gateway</h1>');
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
      const checks = await doctor(env('good.test', { PUBLIC_URL: base }));
      expect(byName(checks, /^One-click unsubscribe answers POST$/)).toMatchObject({
        ok: false,
        detail: expect.stringMatching(/answered 502$/),
        fix: expect.stringMatching(/^start recap serve and the proxy in front of it/),
      });
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('keeps "start recap serve" for an address nothing answers at', async () => {
    const closed = createHttpServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const checks = await doctor(env('good.test', { PUBLIC_URL: `https://127.0.0.1:${port}` }));
    for (const name of [/^PUBLIC_URL reachable$/, /^One-click unsubscribe answers POST$/])
      expect(byName(checks, name)).toMatchObject({
        ok: false,
        detail: expect.stringMatching(/ECONNREFUSED/),
        fix: expect.stringMatching(/^start recap serve and the proxy in front of it/),
      });
  });
});

describe('the one-click probe', () => {
  const counts = async () => ({
    statuses: await app.db
      .selectFrom('subscribers')
      .select(['id', 'status', 'unsubscribed_at'])
      .orderBy('id')
      .execute(),
    consent: (await app.db.selectFrom('consent_log').select('id').execute()).length,
    events: (await app.db.selectFrom('tracking_events').select('id').execute()).length,
  });

  it('answers 200 to the probe and unsubscribes nobody, however often it is posted', async () => {
    const before = await counts();
    expect(before.statuses.every((s) => s.status === 'active')).toBe(true);
    const checks = await doctor(env('good.test'));
    expect(byName(checks, /^One-click unsubscribe answers POST$/)).toMatchObject({ ok: true });
    const probe = signProbeToken({ current: SECRET, previous: [] });
    for (const body of ['List-Unsubscribe=One-Click', 'action=unsubscribe', 'action=resubscribe']) {
      const response = await fetch(`${server.url}/u/${probe}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('nobody was unsubscribed');
    }
    expect(await counts()).toEqual(before);
  });

  it('cannot be forged or pointed at a real subscriber: a real token still unsubscribes only its owner', async () => {
    const before = await counts();
    const forged = signProbeToken({ current: 'another-secret-0123456789-abcdefghijkl', previous: [] });
    const post = (token: string) =>
      fetch(`${server.url}/u/${token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
    expect((await post(forged)).status).toBe(404);
    expect(
      (await post(signProbeToken({ current: SECRET, previous: [] }).replace('u.0.', 'u.1.'))).status,
    ).toBe(404);
    expect(await counts()).toEqual(before);
    const real = signToken(
      { current: SECRET, previous: [] },
      { kind: 'unsubscribe', subscriberId: seed.alice },
    );
    expect((await post(real)).status).toBe(200);
    const after = await counts();
    expect(after.statuses.filter((s) => s.status !== 'active').map((s) => s.id)).toEqual([seed.alice]);
    await app.db.updateTable('subscribers').set({ status: 'active', unsubscribed_at: null }).execute();
  });
});

describe('the client address the server derives behind a proxy', () => {
  /**
   * A proxy as nginx with `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for` is: it appends
   * the address it saw (doctor's, 127.0.0.1) and connects to the server from another address (127.0.0.3).
   */
  async function startForwardingProxy(target: string, appendForwarded = true) {
    const upstream = new URL(target);
    const proxy = createHttpServer((request, response) => {
      const seen = request.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '';
      const chain = [request.headers['x-forwarded-for'], seen].filter(Boolean).join(', ');
      const forwarded = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          localAddress: '127.0.0.3',
          method: request.method,
          path: request.url,
          headers: { ...request.headers, ...(appendForwarded ? { 'x-forwarded-for': chain } : {}) },
        },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      forwarded.on('error', () => response.destroy());
      request.pipe(forwarded);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(proxy.address() as { port: number }).port}`,
      close: () => new Promise((resolve) => proxy.close(resolve)),
    };
  }

  /** The server with this TRUST_PROXY, behind the proxy; doctor run against the proxy's address. */
  async function doctorBehindProxy(trustProxy: string | undefined) {
    const vars = env('good.test', trustProxy ? { TRUST_PROXY: trustProxy } : {});
    const behind = await startServer(
      { ...app, config: loadConfig(vars, { dotenvPath: '/nonexistent/.env' }) },
      { port: 0, host: '127.0.0.1' },
    );
    const proxy = await startForwardingProxy(behind.url);
    try {
      const checks = await doctor({ ...vars, PUBLIC_URL: proxy.url });
      expect(byName(checks, /^One-click unsubscribe/).ok).toBe(true);
      return byName(checks, /^Client address behind the proxy$/);
    } finally {
      await proxy.close();
      await behind.close();
    }
  }

  it('says every reader looks like the proxy when TRUST_PROXY is unset, and prints the setting that fixes it', async () => {
    const check = await doctorBehindProxy(undefined);
    expect(check.ok).toBe(false);
    expect(check.detail).toBe(
      "behind a proxy (X-Forwarded-For: 127.0.0.1), the server uses the proxy's own address: every reader looks like 127.0.0.3",
    );
    expect(check.fix).toBe('TRUST_PROXY=1 in .env, then restart recap serve');
  });

  it('passes when TRUST_PROXY names the one proxy in front', async () => {
    const check = await doctorBehindProxy('1');
    expect(check).toMatchObject({
      ok: true,
      detail: 'the server sees the address the proxy forwards (127.0.0.1, one proxy)',
    });
    expect(await doctorBehindProxy('127.0.0.3')).toMatchObject({ ok: true });
  });

  it('fails when the server trusts more proxies than there are: the address doctor wrote is believed', async () => {
    const check = await doctorBehindProxy('2');
    expect(check.ok).toBe(false);
    expect(check.detail).toMatch(
      /^the server took 198\.51\.100\.23, written by doctor in X-Forwarded-For, as the client/,
    );
    expect(check.fix).toBe('TRUST_PROXY=1 in .env (the proxies in front: 1), then restart recap serve');
  });

  it('passes without a proxy, whatever X-Forwarded-For a client sends', async () => {
    const check = byName(await doctor(env('good.test')), /^Client address behind the proxy$/);
    expect(check).toMatchObject({
      ok: true,
      detail: "no proxy in front: the server sees the connection's address (127.0.0.1)",
    });
  });
});

// Each run starts the CLI (and, without TEST_DATABASE_URL, an embedded database): slow on a busy machine.
describe('recap doctor as a command', { timeout: 120_000 }, () => {
  it('prints one line per check and exits 1 when any fails', async () => {
    const result = await runCli(['doctor', '--dns', dns.address, '--ip', '203.0.113.5'], env('bad.test'));
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toContain(
      '✗ SPF for bad.test authorises 203.0.113.5: fail (v=spf1 ip4:192.0.2.99 -all); address from --ip',
    );
    expect(lines).toContain(
      '✗ DMARC for bad.test published and aligned with From: no DMARC record at _dmarc.bad.test',
    );
    expect(lines).toContain('✓ RECAP_SECRET strength: strong enough');
    expect(lines.at(-1)).toMatch(/^\d+ of \d+ checks failed( \(\d+ warnings?\))?$/);
    // Under each failure, indented, the record or setting that fixes it.
    expect(lines.slice(0, -1).every((line) => /^([✓✗!] | {4})/.test(line))).toBe(true);
    const dmarc = lines.indexOf(
      '✗ DMARC for bad.test published and aligned with From: no DMARC record at _dmarc.bad.test',
    );
    expect(lines.slice(dmarc + 1, dmarc + 4)).toEqual([
      '    publish:',
      expect.stringMatching(/^ {4}; DMARC: /),
      '    _dmarc.bad.test. 3600 IN TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@bad.test; adkim=r; aspf=r"',
    ]);
    // The DKIM record of the configured key, as recap init prints it: the public half of good.pem.
    const dkim = lines.findIndex((line) => line.startsWith('✗ DKIM key recap._domainkey.bad.test'));
    const printed = lines.slice(dkim + 1, dkim + 6).join('\n');
    const strings = [...printed.matchAll(/"([^"]*)"/g)].map((match) => match[1]);
    expect(strings.join('')).toBe(good.record);
    expect(strings.every((part) => (part?.length ?? 0) <= 255)).toBe(true);
    // The SPF record that would authorise the address given with --ip.
    expect(result.stdout).toContain('bad.test. 3600 IN TXT "v=spf1 ip4:203.0.113.5 ~all"');
  });

  it('exits 0 when every check passes: https PUBLIC_URL, DNS records, probe, secret, database and SMTP', async () => {
    const result = await runCli(['doctor', '--dns', dns.address], {
      ...env('good.test', {
        PUBLIC_URL: httpsUrl,
        BOUNCE_DOMAIN: 'bounces.good.test',
        BOUNCE_SMTP_PORT: '2525',
      }),
      NODE_EXTRA_CA_CERTS: certFile,
    });
    expect(result.stdout).toMatch(
      /✓ One-click unsubscribe answers POST: POST https:\/\/127.0.0.1:\d+\/u\/<probe> answered 200/,
    );
    expect(result.stdout).toMatch(/^all \d+ checks passed$/m);
    expect(result.stdout).not.toMatch(/^[✗!] /m);
    expect(result.stdout).toContain(
      '✓ Bounce route: MX mx.good.test for bounces.good.test; the listener at 2525 takes what it forwards',
    );
    expect(result.code).toBe(0);
  });

  it('refuses a --dns that is not an address', async () => {
    const result = await runCli(['doctor', '--dns', 'dns.example'], env('good.test'));
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      '✗ DNS server: --dns: expected an IP address with an optional port, got "dns.example"',
    );
  });
});
