import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { sql } from 'kysely';
import { type DNSResolver, dkimSign, dkimVerify, dmarc, spf } from 'mailauth';
import nodemailer from 'nodemailer';
import type { Config } from '../config.ts';
import { connectDatabase } from '../db/connect.ts';
import { redactUrl } from '../errors.ts';
import { describeWeakSecret } from '../secret-strength.ts';
import { signProbeToken } from '../tracking/probe-token.ts';
import { createDnsResolver } from './dns-resolver.ts';

/** One line of the report: what was checked, whether a receiver (or the operator) would be satisfied, and why. */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** What the checks read: the database, SMTP and DKIM settings, the sender, PUBLIC_URL and the secrets. */
export type DoctorSettings = Pick<
  Config,
  'databaseUrl' | 'dataDir' | 'smtp' | 'dkim' | 'sender' | 'publicUrl' | 'publicUrlSet' | 'secrets'
>;

export interface DoctorOptions {
  config: DoctorSettings;
  /** DNS server to ask (`ip` or `ip:port`); default the system's. */
  dnsServer?: string;
  /** Addresses that hand mail to receivers; default the addresses of SMTP_URL's host. */
  sendingIps?: string[];
  /** Per network check. */
  timeoutMs?: number;
}

/**
 * Runs every check `recap doctor` reports, in order, and returns one result per line. Checks what a
 * receiving mail server checks (SPF of the envelope domain for the sending host, the DKIM key in DNS
 * against the private key, DMARC alignment with From) and what the operator needs (PUBLIC_URL set and https,
 * one-click unsubscribe answering POST with a probe that unsubscribes nobody, secret strength, database,
 * SMTP). Never throws: a failing check is a line with `ok: false`.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorCheck[]> {
  const { config } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const checks: DoctorCheck[] = [];
  const add = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });

  let resolver: DNSResolver | undefined;
  try {
    resolver = createDnsResolver(options.dnsServer);
  } catch (error) {
    add('DNS server', false, `--dns: ${messageOf(error)}`);
  }
  if (resolver) checks.push(...(await mailAuthentication(config, resolver, options.sendingIps)));
  checks.push(...(await publicUrlChecks(config, timeoutMs)));

  const weak = describeWeakSecret(config.secrets.current);
  add('RECAP_SECRET strength', weak === null, weak === null ? 'strong enough' : `RECAP_SECRET ${weak}`);

  add(...(await databaseCheck(config)));
  add(...(await smtpCheck(config, timeoutMs)));
  return checks;
}

/** SPF, DKIM and DMARC as a receiver evaluates them, over a message signed here and never sent. */
// Long: the SPF, DKIM and DMARC checks share one probe message and one resolver and report in the order a receiver applies them.
async function mailAuthentication(
  config: DoctorSettings,
  resolver: DNSResolver,
  givenIps: string[] | undefined,
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const fromDomain = domainOf(config.sender.email);
  const envelopeDomain = config.sender.bounceDomain;
  const sender = `bounces@${envelopeDomain}`;

  let ips = givenIps ?? [];
  let ipsFrom = '--ip';
  if (ips.length === 0 && config.smtp.url) {
    const host = new URL(config.smtp.url).hostname.replace(/^\[|\]$/g, '');
    ipsFrom = `SMTP_URL host ${host}`;
    ips = isIP(host) ? [host] : await addressesOf(resolver, host);
  }
  const spfPassed: string[] = [];
  if (ips.length === 0) {
    checks.push({
      name: `SPF for ${envelopeDomain}`,
      ok: false,
      detail: `no sending address to check: give --ip <address of the host that hands mail to receivers>${config.smtp.url ? ` (${ipsFrom} did not resolve)` : ''}`,
    });
  }
  for (const ip of ips) {
    const result = await spf({ sender, ip, helo: envelopeDomain, mta: 'recap-doctor', resolver }).catch(
      (error: unknown) => ({ status: { result: 'temperror', comment: messageOf(error) }, rr: undefined }),
    );
    const ok = result.status.result === 'pass';
    if (ok) spfPassed.push(envelopeDomain);
    checks.push({
      name: `SPF for ${envelopeDomain} authorises ${ip}`,
      ok,
      detail: `${result.status.result}${result.rr ? ` (${result.rr})` : result.status.comment ? `: ${result.status.comment}` : ''}${ok ? '' : `; address from ${ipsFrom}`}`,
    });
  }

  const dkimDomains: Array<{ id?: string; domain: string; underSized?: boolean }> = [];
  if (!config.dkim) {
    checks.push({
      name: 'DKIM',
      ok: false,
      detail: 'not configured: set DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE',
    });
  } else {
    const { domain, selector, privateKeyFile } = config.dkim;
    const name = `DKIM key ${selector}._domainkey.${domain} matches DKIM_PRIVATE_KEY_FILE`;
    try {
      const message = probeMessage(config);
      const privateKey = await readFile(privateKeyFile, 'utf8');
      const signed = await dkimSign(message, {
        canonicalization: 'relaxed/relaxed',
        signatureData: [{ signingDomain: domain, selector, privateKey }],
      } as Parameters<typeof dkimSign>[1]);
      if (signed.errors.length > 0) throw signed.errors[0];
      if (!signed.signatures.trim()) throw new Error('the key in DKIM_PRIVATE_KEY_FILE signed nothing');
      const verified = await dkimVerify(Buffer.from(signed.signatures + message), { resolver, sender });
      const result = verified.results.find((r) => r.signingDomain === domain);
      const ok = result?.status.result === 'pass';
      if (ok && result) dkimDomains.push({ id: result.id, domain, underSized: result.status.underSized });
      checks.push({
        name,
        ok,
        detail: ok
          ? 'a message signed with the key verifies against DNS'
          : `${result?.status.result ?? 'none'}${result?.status.comment ? `: ${result.status.comment}` : ''}`,
      });
    } catch (error) {
      checks.push({ name, ok: false, detail: messageOf(error) });
    }
  }

  const name = `DMARC for ${fromDomain} published and aligned with From`;
  try {
    const result = await dmarc({ headerFrom: fromDomain, spfDomains: spfPassed, dkimDomains, resolver });
    if (!result || result.status.result === 'none') {
      checks.push({ name, ok: false, detail: `no DMARC record at _dmarc.${fromDomain}` });
    } else if (!result.alignment) {
      checks.push({
        name,
        ok: false,
        detail: `${result.status.result}: ${result.error ?? result.status.comment ?? 'no answer'}`,
      });
    } else {
      const aligned = [
        result.alignment.dkim.result ? `DKIM (${result.alignment.dkim.result})` : '',
        result.alignment.spf.result ? `SPF (${result.alignment.spf.result})` : '',
      ].filter(Boolean);
      const ok = result.status.result === 'pass';
      checks.push({
        name,
        ok,
        detail: ok
          ? `p=${result.p}; aligned by ${aligned.join(' and ')}`
          : `${result.status.result}: neither a passing DKIM signature nor a passing SPF domain aligns with ${fromDomain} (DKIM d=${config.dkim?.domain ?? 'none'}, envelope ${envelopeDomain}); p=${result.p}`,
      });
    }
  } catch (error) {
    checks.push({ name, ok: false, detail: messageOf(error) });
  }
  return checks;
}

async function publicUrlChecks(config: DoctorSettings, timeoutMs: number): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const base = config.publicUrl;
  checks.push({
    name: 'PUBLIC_URL set',
    ok: config.publicUrlSet,
    detail: config.publicUrlSet
      ? base
      : `unset: links in mail point at ${base} on this machine; set the address readers open (required with NODE_ENV=production)`,
  });
  const https = base.startsWith('https://');
  checks.push({
    name: 'PUBLIC_URL uses https',
    ok: https,
    detail: https ? base : `${base}: receivers and subscribers expect https links`,
  });
  try {
    const response = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel().catch(() => {});
    checks.push({
      name: 'PUBLIC_URL reachable',
      ok: response.ok,
      detail: `GET ${base}/healthz answered ${response.status}`,
    });
  } catch (error) {
    checks.push({
      name: 'PUBLIC_URL reachable',
      ok: false,
      detail: `GET ${base}/healthz: ${messageOf(error)}`,
    });
  }
  const probe = `${base}/u/${signProbeToken(config.secrets)}`;
  try {
    const response = await fetch(probe, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel().catch(() => {});
    checks.push({
      name: 'One-click unsubscribe answers POST',
      ok: response.status === 200,
      detail: `POST ${base}/u/<probe> answered ${response.status}${response.status === 404 ? ' (is RECAP_SECRET the one the server uses?)' : ''}`,
    });
  } catch (error) {
    checks.push({
      name: 'One-click unsubscribe answers POST',
      ok: false,
      detail: `POST ${base}/u/<probe>: ${messageOf(error)}`,
    });
  }
  return checks;
}

async function databaseCheck(config: DoctorSettings): Promise<[string, boolean, string]> {
  const where = config.databaseUrl
    ? `PostgreSQL at ${redactUrl(config.databaseUrl)}`
    : `embedded database in ${config.dataDir}`;
  try {
    const handle = await connectDatabase({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      poolSize: 1,
      migrate: false,
    });
    try {
      await sql`SELECT 1`.execute(handle.db);
    } finally {
      await handle.close();
    }
    return ['Database reachable', true, where];
  } catch (error) {
    return ['Database reachable', false, `${where}: ${messageOf(error)}`];
  }
}

async function smtpCheck(config: DoctorSettings, timeoutMs: number): Promise<[string, boolean, string]> {
  if (!config.smtp.url)
    return ['SMTP reachable', false, 'SMTP_URL is not set: mail goes to the outbox folder'];
  const where = redactUrl(config.smtp.url);
  const transport = nodemailer.createTransport({
    url: config.smtp.url,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  try {
    await transport.verify();
    return [
      'SMTP reachable',
      true,
      `${where} accepted the connection${new URL(config.smtp.url).password ? ' and login' : ''}`,
    ];
  } catch (error) {
    return ['SMTP reachable', false, `${where}: ${messageOf(error)}`];
  } finally {
    transport.close();
  }
}

/** A message like the recap's headers, signed here only to check the DNS key; it is never sent. */
function probeMessage(config: DoctorSettings): string {
  const domain = domainOf(config.sender.email);
  return [
    `From: "${config.sender.name.replace(/["\\]/g, '')}" <${config.sender.email}>`,
    'To: doctor@example.invalid',
    'Subject: recap doctor DKIM check',
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <doctor.${randomBytes(6).toString('hex')}@${domain}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'This message checks the DKIM key and is never sent.',
    '',
  ].join('\r\n');
}

async function addressesOf(resolver: DNSResolver, host: string): Promise<string[]> {
  const found: string[] = [];
  for (const type of ['A', 'AAAA']) {
    try {
      found.push(...((await resolver(host, type)) as string[]));
    } catch {
      // No record of this type: the other may have one.
    }
  }
  return found;
}

function domainOf(address: string): string {
  return address.split('@')[1]?.toLowerCase() ?? 'localhost';
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch hides the network error (ECONNREFUSED, ENOTFOUND, a certificate) in its cause.
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
}
