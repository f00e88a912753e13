import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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

describe('recap doctor: what a receiver checks', () => {
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
    expect(lines.at(-1)).toMatch(/^\d+ of \d+ checks failed$/);
    expect(lines.slice(0, -1).every((line) => /^[✓✗] /.test(line))).toBe(true);
  });

  it('exits 0 when every check passes: https PUBLIC_URL, DNS records, probe, secret, database and SMTP', async () => {
    const result = await runCli(['doctor', '--dns', dns.address], {
      ...env('good.test', { PUBLIC_URL: httpsUrl }),
      NODE_EXTRA_CA_CERTS: certFile,
    });
    expect(result.stdout).toMatch(
      /✓ One-click unsubscribe answers POST: POST https:\/\/127.0.0.1:\d+\/u\/<probe> answered 200/,
    );
    expect(result.stdout).toMatch(/^all \d+ checks passed$/m);
    expect(result.stdout).not.toContain('✗');
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
