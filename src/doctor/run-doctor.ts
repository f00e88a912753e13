import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { sql } from 'kysely';
import { type DNSResolver, dkimSign, dkimVerify, dmarc, spf } from 'mailauth';
import nodemailer from 'nodemailer';
import type { Config } from '../config.ts';
import { connectDatabase } from '../db/connect.ts';
import type { BounceMailbox } from '../delivery/bounces/poll-bounce-mailbox.ts';
import { redactUrl } from '../errors.ts';
import { describeWeakSecret } from '../secret-strength.ts';
import {
  bounceMxRecord,
  bounceRouteText,
  dkimRecord,
  dmarcRecord,
  domainOf,
  formatRecord,
  knownRelayOf,
  type MailDomainSettings,
  proposedBounceDomain,
  smtpHostOf,
  spfRecord,
} from '../setup/dns-records.ts';
import { dkimPublicKeyOf } from '../setup/write-setup.ts';
import { PROBE_HEADERS, signProbeToken } from '../tracking/probe-token.ts';
import { judgeClientAddress, SPOOFED_CLIENT } from './client-address.ts';
import { createDnsResolver } from './dns-resolver.ts';

/** One line of the report: what was checked, whether a receiver (or the operator) would be satisfied, and why. */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** What fixes a failed check (or a warning): the DNS record or setting, as `recap init` printed it. */
  fix?: string;
  /** Passes, but something is missing that the operator should know about (doctor still exits 0). */
  warning?: boolean;
}

/** What the checks read: the database, SMTP and DKIM settings, the sender, PUBLIC_URL and the secrets. */
export type DoctorSettings = Pick<
  Config,
  | 'databaseUrl'
  | 'dataDir'
  | 'smtp'
  | 'dkim'
  | 'sender'
  | 'publicUrl'
  | 'publicUrlSet'
  | 'secrets'
  | 'trustProxy'
  | 'bounceSmtpPort'
  | 'bounceMailbox'
>;

export interface DoctorOptions {
  config: DoctorSettings;
  /** DNS server to ask (`ip` or `ip:port`); default the system's. */
  dnsServer?: string;
  /** Addresses that hand mail to receivers; default the addresses of SMTP_URL's host. */
  sendingIps?: string[];
  /** Per network check. */
  timeoutMs?: number;
  /** BOUNCE_IMAP_URL's mailbox (src/cli builds it): connected to and logged in when the setting is set. */
  bounceMailbox?: BounceMailbox;
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
  const add = (name: string, ok: boolean, detail: string, fix?: string) =>
    checks.push({ name, ok, detail, ...(ok || !fix ? {} : { fix }) });

  let resolver: DNSResolver | undefined;
  try {
    resolver = createDnsResolver(options.dnsServer);
  } catch (error) {
    add('DNS server', false, `--dns: ${messageOf(error)}`);
  }
  if (resolver) {
    checks.push(...(await mailAuthentication(config, resolver, options.sendingIps)));
    checks.push(await bounceRouteCheck(config, resolver));
  }
  checks.push(...(await publicUrlChecks(config, timeoutMs)));

  const weak = describeWeakSecret(config.secrets.current);
  add(
    'RECAP_SECRET strength',
    weak === null,
    weak === null ? 'strong enough' : `RECAP_SECRET ${weak}`,
    'RECAP_SECRET=<new value from `openssl rand -base64 32`> in .env; move the old one to RECAP_PREVIOUS_SECRETS so links already mailed keep working',
  );

  add(
    ...(await databaseCheck(config)),
    'DATABASE_URL=postgres://user:password@host:5432/recap in .env: a PostgreSQL server that answers from this machine',
  );
  // Every bulk relay is checked, not only the first: a second relay of SMTP_URLS with a wrong password
  // would otherwise fail only during the send, taking its share of the list with it.
  const relays = config.smtp.relays.length > 0 ? config.smtp.relays : [];
  if (relays.length <= 1) {
    add(
      ...(await smtpCheck('SMTP reachable', config.smtp.url, timeoutMs)),
      "SMTP_URL=smtp://user:password@host:587 in .env: the relay's host, port and credentials",
    );
  } else {
    for (const relay of relays)
      add(
        ...(await smtpCheck(`SMTP reachable (${relay.name})`, relay.url, timeoutMs)),
        `SMTP_URLS in .env: the host, port and credentials of ${relay.name}, or leave it out of the list`,
      );
  }
  if (config.smtp.systemUrl)
    add(
      ...(await smtpCheck('System mail SMTP reachable', config.smtp.systemUrl, timeoutMs)),
      'SYSTEM_SMTP_URL=smtp://user:password@host:587 in .env: the relay of sign-up, welcome and test mails (unset: the bulk relays carry them)',
    );
  if (config.bounceMailbox && options.bounceMailbox)
    add(
      ...(await bounceMailboxCheck(config.bounceMailbox, options.bounceMailbox, timeoutMs)),
      'BOUNCE_IMAP_URL=imaps://user:password@imap.example.org/INBOX in .env: the IMAP server, the login and the folder the bounce domain delivers to (user and password percent-encoded)',
    );
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
  const domains = mailDomainSettingsOf(config, givenIps);
  const spfFix = `publish:\n${formatRecord(spfRecord(domains))}`;
  if (ips.length === 0) {
    checks.push({
      name: `SPF for ${envelopeDomain}`,
      ok: false,
      detail: `no sending address to check: give --ip <address of the host that hands mail to receivers>${config.smtp.url ? ` (${ipsFrom} did not resolve)` : ''}`,
      fix: `recap doctor --ip <address>; the record to publish:\n${formatRecord(spfRecord(domains))}`,
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
      ...(ok ? {} : { fix: spfFix }),
    });
  }

  const dkimDomains: Array<{ id?: string; domain: string; underSized?: boolean }> = [];
  if (!config.dkim) {
    checks.push({
      name: 'DKIM',
      ok: false,
      detail: 'not configured: set DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE',
      fix: dkimSetupFix(fromDomain),
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
        ...(ok ? {} : { fix: dkimRecordFix(config.dkim) }),
      });
    } catch (error) {
      checks.push({ name, ok: false, detail: messageOf(error), fix: dkimRecordFix(config.dkim) });
    }
  }

  const name = `DMARC for ${fromDomain} published and aligned with From`;
  try {
    const result = await dmarc({ headerFrom: fromDomain, spfDomains: spfPassed, dkimDomains, resolver });
    if (!result || result.status.result === 'none') {
      checks.push({
        name,
        ok: false,
        detail: `no DMARC record at _dmarc.${fromDomain}`,
        fix: `publish:\n${formatRecord(dmarcRecord(domains))}`,
      });
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
        ...(ok
          ? {}
          : {
              fix: `sign for the From domain (DKIM_DOMAIN=${fromDomain}, and publish its DKIM record), or send with an envelope in it (BOUNCE_DOMAIN=${fromDomain} or a subdomain such as ${proposedBounceDomain(config.sender.email)}, with its SPF record)`,
            }),
      });
    }
  } catch (error) {
    checks.push({ name, ok: false, detail: messageOf(error) });
  }
  return checks;
}

// Long: the four checks of the public address share its base URL and the probe's answer, in the order they depend on each other.
async function publicUrlChecks(config: DoctorSettings, timeoutMs: number): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const base = config.publicUrl;
  const startServing = startServingFix(base);
  checks.push({
    name: 'PUBLIC_URL set',
    ok: config.publicUrlSet,
    detail: config.publicUrlSet
      ? base
      : `unset: links in mail point at ${base} on this machine; set the address readers open (required with NODE_ENV=production)`,
    ...(config.publicUrlSet
      ? {}
      : { fix: 'PUBLIC_URL=https://recap.example.org in .env (the address readers open)' }),
  });
  const https = base.startsWith('https://');
  checks.push({
    name: 'PUBLIC_URL uses https',
    ok: https,
    detail: https ? base : `${base}: receivers and subscribers expect https links`,
    ...(https
      ? {}
      : {
          fix: 'serve it through a proxy that terminates TLS (nginx or Caddy, see docs/deploy.md), then PUBLIC_URL=https://… in .env',
        }),
  });
  try {
    const response = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel().catch(() => {});
    checks.push({
      name: 'PUBLIC_URL reachable',
      ok: response.ok,
      detail: `GET ${base}/healthz answered ${response.status}`,
      ...(response.ok ? {} : { fix: startServing }),
    });
  } catch (error) {
    checks.push({
      name: 'PUBLIC_URL reachable',
      ok: false,
      detail: `GET ${base}/healthz: ${messageOf(error)}`,
      fix: unreachableFix(error, base, startServing),
    });
  }
  checks.push(...(await probeChecks(config, timeoutMs)));
  return checks;
}

/** One-click unsubscribe answers the signed probe, and the client address the server derived for it. */
async function probeChecks(config: DoctorSettings, timeoutMs: number): Promise<DoctorCheck[]> {
  const base = config.publicUrl;
  const probe = `${base}/u/${signProbeToken(config.secrets)}`;
  const name = 'One-click unsubscribe answers POST';
  let response: Response;
  try {
    response = await fetch(probe, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        // As any client could write it: a server that believes it trusts too many proxies.
        'x-forwarded-for': SPOOFED_CLIENT,
      },
      body: 'List-Unsubscribe=One-Click',
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel().catch(() => {});
  } catch (error) {
    return [
      {
        name,
        ok: false,
        detail: `POST ${base}/u/<probe>: ${messageOf(error)}`,
        fix: unreachableFix(error, base, startServingFix(base)),
      },
    ];
  }
  const ok = response.status === 200;
  const checks: DoctorCheck[] = [
    {
      name,
      ok,
      detail: `POST ${base}/u/<probe> answered ${response.status}${response.status === 404 ? ' (is RECAP_SECRET the one the server uses?)' : ''}`,
      ...(ok ? {} : { fix: probeFix(response.status, base) }),
    },
  ];
  const derived = response.headers.get(PROBE_HEADERS.client);
  if (!ok) return checks;
  const clientName = 'Client address behind the proxy';
  if (derived === null) {
    checks.push({
      name: clientName,
      ok: true,
      warning: true,
      detail: 'the server did not say which address it saw (a version before recap doctor asked)',
    });
    return checks;
  }
  const verdict = judgeClientAddress({
    derived,
    peer: response.headers.get(PROBE_HEADERS.peer) ?? '',
    forwardedFor: response.headers.get(PROBE_HEADERS.forwarded) ?? '',
    publicHost: new URL(base).hostname,
    trustProxySetting: trustProxyText(config.trustProxy),
  });
  checks.push({ name: clientName, ...verdict });
  return checks;
}

function trustProxyText(value: DoctorSettings['trustProxy']): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(',') : String(value);
}

/**
 * Where bounces go. Through a known email service: a warning, since its bounces come back by webhook
 * only and none can be configured yet. Through an own MTA: the bounce domain needs an MX and
 * BOUNCE_SMTP_PORT the listener the MTA forwards to.
 */
async function bounceRouteCheck(config: DoctorSettings, resolver: DNSResolver): Promise<DoctorCheck> {
  const domains = mailDomainSettingsOf(config);
  const name = 'Bounce route';
  if (domains.relay === 'esp') {
    const provider = knownRelayOf(domains.smtpHost)?.name ?? 'the relay';
    return {
      name,
      ok: true,
      warning: true,
      detail: `${provider} reports bounces and complaints by webhook, and no webhook is configured: bounced addresses stay on the list here`,
      fix: bounceRouteText(domains),
    };
  }
  const fix = `publish:\n${formatRecord(bounceMxRecord(domains))}\n${bounceRouteText(domains)}`;
  let exchanges: string[] = [];
  try {
    const found = (await resolver(domains.bounceDomain, 'MX')) as unknown as Array<{ exchange: string }>;
    exchanges = found.map((record) => record.exchange);
  } catch {
    // No MX (NXDOMAIN or NODATA): reported below.
  }
  if (domains.bounceDomain === domainOf(config.sender.email))
    return {
      name,
      ok: true,
      warning: true,
      detail: `the return path is on the From domain itself${exchanges.length > 0 ? ` (MX ${exchanges.join(', ')})` : ''}: bounces reach whatever receives ${domains.bounceDomain}'s mail, not the recap`,
      fix: `BOUNCE_DOMAIN=${proposedBounceDomain(config.sender.email)} in .env, and publish:\n${formatRecord(bounceMxRecord({ ...domains, bounceDomain: proposedBounceDomain(config.sender.email) }))}\n${bounceRouteText({ ...domains, bounceDomain: proposedBounceDomain(config.sender.email) })}`,
    };
  if (exchanges.length === 0)
    return {
      name,
      ok: false,
      detail: `no MX for ${domains.bounceDomain}: bounces+…@ mail has nowhere to go`,
      fix,
    };
  if (config.bounceMailbox)
    return {
      name,
      ok: true,
      detail: `MX ${exchanges.join(', ')} for ${domains.bounceDomain}; the bounce mailbox ${config.bounceMailbox.label} is polled`,
    };
  if (config.bounceSmtpPort === undefined)
    return {
      name,
      ok: false,
      detail: `MX ${exchanges.join(', ')}, but BOUNCE_SMTP_PORT is unset: the listener your MTA forwards to does not run`,
      fix: `BOUNCE_SMTP_PORT=2525 in .env, restart recap serve\n${bounceRouteText(domains)}\nor deliver the bounce domain to a mailbox and set BOUNCE_IMAP_URL (docs/endpoints.md)`,
    };
  return {
    name,
    ok: true,
    detail: `MX ${exchanges.join(', ')} for ${domains.bounceDomain}; the listener at ${config.bounceSmtpPort} takes what it forwards`,
  };
}

/** Connects to the bounce mailbox, logs in and selects its folder, as every poll does. */
async function bounceMailboxCheck(
  settings: NonNullable<DoctorSettings['bounceMailbox']>,
  mailbox: BounceMailbox,
  timeoutMs: number,
): Promise<[string, boolean, string]> {
  const name = 'Bounce mailbox reachable';
  let timer: NodeJS.Timeout | undefined;
  try {
    const waiting = await Promise.race([
      (async () => {
        const session = await mailbox.open();
        try {
          return (await session.messages()).length;
        } finally {
          await session.close();
        }
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]);
    return [
      name,
      true,
      `${settings.label}: logged in over TLS; ${waiting} message${waiting === 1 ? '' : 's'} waiting in ${settings.folder}, polled every ${settings.pollMs / 1000} s by recap serve and recap schedule`,
    ];
  } catch (error) {
    const reason = messageOf(error);
    return [name, false, reason.includes(settings.label) ? reason : `${settings.label}: ${reason}`];
  } finally {
    clearTimeout(timer);
  }
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

async function smtpCheck(
  name: string,
  url: string | undefined,
  timeoutMs: number,
): Promise<[string, boolean, string]> {
  if (!url) return [name, false, 'SMTP_URL is not set: mail goes to the outbox folder'];
  const where = redactUrl(url);
  const transport = nodemailer.createTransport({
    url,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  try {
    await transport.verify();
    return [name, true, `${where} accepted the connection${new URL(url).password ? ' and login' : ''}`];
  } catch (error) {
    return [name, false, `${where}: ${messageOf(error)}`];
  } finally {
    transport.close();
  }
}

/** The settings the DNS records are built from, as this configuration has them. */
function mailDomainSettingsOf(config: DoctorSettings, sendingIps?: string[]): MailDomainSettings {
  const smtpHost = smtpHostOf(config.smtp.url);
  return {
    fromEmail: config.sender.email,
    bounceDomain: config.sender.bounceDomain,
    relay: knownRelayOf(smtpHost) ? 'esp' : 'own',
    smtpHost: sendingIps?.[0] ?? smtpHost,
    bounceSmtpPort: config.bounceSmtpPort,
  };
}

function dkimSetupFix(fromDomain: string): string {
  return [
    'run `recap init` (it makes the key and prints its record), or make a key and set:',
    '  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out /etc/recap/dkim/recap.pem && chmod 600 /etc/recap/dkim/recap.pem',
    `  DKIM_DOMAIN=${fromDomain}`,
    '  DKIM_SELECTOR=recap',
    '  DKIM_PRIVATE_KEY_FILE=/etc/recap/dkim/recap.pem',
    'then run recap doctor again: it prints the DNS record of that key',
  ].join('\n');
}

/** The DKIM record of the configured private key, as init printed it; the reason when the key cannot be read. */
function dkimRecordFix(dkim: DoctorSettings['dkim']): string | undefined {
  if (!dkim) return undefined;
  try {
    const publicKeyBase64 = dkimPublicKeyOf(dkim.privateKeyFile);
    return `publish:\n${formatRecord(dkimRecord({ domain: dkim.domain, selector: dkim.selector, publicKeyBase64 }))}`;
  } catch (error) {
    return `DKIM_PRIVATE_KEY_FILE=${dkim.privateKeyFile} must be a readable PEM private key (${messageOf(error)})`;
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

/** What to do when the probe got an answer other than 200. */
function probeFix(status: number, base: string): string {
  if (status === 404) return 'run recap doctor with the .env recap serve uses (the same RECAP_SECRET)';
  // The proxy answers for a server it cannot reach (502, 504), or the server itself fails.
  if (status >= 500) return `${startServingFix(base)}; its log says why when it answers ${status} itself`;
  return `the proxy in front of recap serve must forward POST ${new URL(base).pathname.replace(/\/$/, '')}/u/… unchanged (docs/deploy.md, step 5)`;
}

function startServingFix(base: string): string {
  return `start recap serve and the proxy in front of it; ${new URL(base).hostname} needs an A/AAAA record pointing at the proxy`;
}

/** Codes of Node's TLS errors for a certificate that does not fit or is not trusted. */
const CERTIFICATE_ERROR =
  /^(ERR_TLS_CERT_ALTNAME_INVALID|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|CERT_UNTRUSTED|CERT_REJECTED)$/;

/**
 * The fix for a request to PUBLIC_URL that got no answer: a certificate readers' mail clients and
 * browsers refuse is fixed at the proxy, not by starting anything.
 */
function unreachableFix(error: unknown, base: string, otherwise: string): string {
  const cause = error instanceof Error ? (error as { cause?: unknown }).cause : undefined;
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string' || !CERTIFICATE_ERROR.test(code)) return otherwise;
  const host = new URL(base).hostname;
  return [
    `the proxy's certificate for ${host} is not one browsers trust (${code}): readers would see a warning on every link`,
    `  certbot certonly --webroot -w /var/www/html -d ${host}, then reload the proxy (docs/deploy.md, step 5); Caddy obtains one itself`,
  ].join('\n');
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch hides the network error (ECONNREFUSED, ENOTFOUND, a certificate) in its cause.
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
}
