import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createSmtpMailer } from '../../src/mail/smtp-mailer.ts';
import { type DnsServer, startDnsServer } from '../doctor/dns-server.ts';
import { runCli, tempWorkdir } from '../support/cli.ts';
import { testDatabaseUrl } from '../support/database.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';

// `recap init` as an operator runs it: the built CLI, in an empty folder, without a terminal.

let sink: SmtpSink;
beforeAll(async () => {
  sink = await startSmtpSink();
});
afterAll(async () => {
  await sink?.close();
});

const flags = () => [
  'init',
  '--non-interactive',
  '--public-url',
  'https://recap.init.test',
  '--from-email',
  'news@init.test',
  '--from-name',
  'Init "Test" Recap',
  '--postal-address',
  'Init Test Ltd · 1 Main Street # 2 · Springfield',
  '--smtp-url',
  sink.url,
  ...(testDatabaseUrl ? ['--database-url', testDatabaseUrl] : []),
];

/** The env of a run: no NODE_ENV from the test runner, so `.env`'s production applies. */
const cleanEnv = { NODE_ENV: undefined };

/** The quoted strings of the TXT record printed for `name`. */
function printedTxt(stdout: string, name: string): string[] {
  const line = stdout.split('\n').findIndex((l) => l.startsWith(`${name}. 3600 IN TXT`));
  expect(line, `no TXT record for ${name} in:\n${stdout}`).toBeGreaterThanOrEqual(0);
  const rest = stdout.split('\n').slice(line).join('\n');
  const record = rest.startsWith(`${name}. 3600 IN TXT (`)
    ? rest.slice(0, rest.indexOf(')'))
    : rest.split('\n')[0];
  return [...(record ?? '').matchAll(/"([^"]*)"/g)].map((match) => match[1] ?? '');
}

describe('recap init, without a terminal', { timeout: 120_000 }, () => {
  let dir: string;
  let stdout: string;

  beforeAll(async () => {
    dir = tempWorkdir('recap-init-');
    const result = await runCli(flags(), cleanEnv, dir);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    stdout = result.stdout;
  });

  it('writes .env and the DKIM key readable by their owner only', () => {
    expect(statSync(path.join(dir, '.env')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dir, 'dkim/recap.pem')).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(dir, 'dkim/recap.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('writes production settings, new secrets, the sender as test recipient and the proxy it implies', () => {
    const env = dotenv.parse(readFileSync(path.join(dir, '.env')));
    expect(env).toMatchObject({
      NODE_ENV: 'production',
      PUBLIC_URL: 'https://recap.init.test',
      RECAP_FROM_EMAIL: 'news@init.test',
      RECAP_FROM_NAME: 'Init "Test" Recap',
      RECAP_POSTAL_ADDRESS: 'Init Test Ltd · 1 Main Street # 2 · Springfield',
      SMTP_URL: sink.url,
      TEST_RECIPIENTS: 'news@init.test',
      TRUST_PROXY: '1',
      DKIM_DOMAIN: 'init.test',
      DKIM_SELECTOR: 'recap',
      DKIM_PRIVATE_KEY_FILE: path.join(dir, 'dkim/recap.pem'),
      BOUNCE_DOMAIN: 'bounces.init.test',
      BOUNCE_SMTP_PORT: '2525',
    });
    expect(env.RECAP_SECRET).toMatch(/^[\w-]{43}$/);
    expect(env.EDITOR_TOKEN).toMatch(/^[\w-]{32}$/);
    // Every command would start with it: production refuses weak secrets and TRUST_PROXY=true.
    const config = loadConfig(env, { dotenvPath: '/nonexistent/.env' });
    expect(config.env).toBe('production');
    expect(config.dkim?.selector).toBe('recap');
    expect(config.sender.bounceDomain).toBe('bounces.init.test');
  });

  it('prints SPF, DKIM in strings of at most 255 bytes, DMARC p=none with a report address, and the bounce MX', () => {
    const dkim = printedTxt(stdout, 'recap._domainkey.init.test');
    expect(dkim.length).toBe(2);
    for (const part of dkim) expect(Buffer.byteLength(part)).toBeLessThanOrEqual(255);
    expect(dkim.join('')).toMatch(/^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]{390,}$/);
    expect(printedTxt(stdout, '_dmarc.init.test')).toEqual([
      'v=DMARC1; p=none; rua=mailto:dmarc-reports@init.test; adkim=r; aspf=r',
    ]);
    // The relay is on this machine: its public address is not known here, and the record says so.
    expect(printedTxt(stdout, 'bounces.init.test')[0]).toBe(
      'v=spf1 ip4:<public address of this mail server> ~all',
    );
    expect(stdout).toContain('A value in <…> is a placeholder');
    expect(stdout).toMatch(/^bounces\.init\.test\. 3600 IN MX 10 <host name of your MTA>\.$/m);
    expect(stdout).toContain('an MX on init.test itself would take over the mail of your whole domain');
    expect(stdout).toContain('smtp:[127.0.0.1]:2525');
  });

  it('makes a key that signs mail the printed DKIM record verifies', async () => {
    const mailer = createSmtpMailer({
      url: sink.url,
      maxConnections: 1,
      dkim: {
        domain: 'init.test',
        selector: 'recap',
        privateKey: readFileSync(path.join(dir, 'dkim/recap.pem'), 'utf8'),
      },
    });
    const before = sink.messages.length;
    try {
      const sent = await mailer.send({
        from: '"Init Test" <news@init.test>',
        to: 'reader@example.test',
        subject: 'signed by the key recap init made',
        html: '<p>hello</p>',
        text: 'hello\n',
        headers: {},
        messageId: '<init.1@init.test>',
        envelopeFrom: 'bounces+x@bounces.init.test',
      });
      expect(sent).toEqual({ ok: true });
    } finally {
      await mailer.close();
    }
    const raw = sink.messages[before]?.raw;
    const record = printedTxt(stdout, 'recap._domainkey.init.test');
    const asked: string[] = [];
    const resolver = async (name: string, type: string) => {
      asked.push(`${type} ${name}`);
      if (type === 'TXT' && name === 'recap._domainkey.init.test') return [record];
      throw Object.assign(new Error(`no ${type} ${name}`), { code: 'ENOTFOUND' });
    };
    const verified = await dkimVerify(raw ?? '', { resolver });
    expect(asked).toContain('TXT recap._domainkey.init.test');
    expect(verified.results.find((r) => r.signingDomain === 'init.test')?.status.result).toBe('pass');
  });

  it('writes a .env recap doctor loads: the records it printed pass against a DNS server serving them', async () => {
    let dns: DnsServer | undefined;
    try {
      dns = await startDnsServer({
        'bounces.init.test': { TXT: ['v=spf1 ip4:127.0.0.1 ~all'], MX: ['mx.init.test'] },
        'recap._domainkey.init.test': { TXT: [printedTxt(stdout, 'recap._domainkey.init.test').join('')] },
        '_dmarc.init.test': { TXT: printedTxt(stdout, '_dmarc.init.test') },
      });
      const result = await runCli(['doctor', '--dns', dns.address, '--ip', '127.0.0.1'], cleanEnv, dir);
      expect(result.stderr).toBe('');
      expect(result.stdout).not.toMatch(/invalid configuration/);
      const lines = result.stdout.split('\n');
      expect(lines).toContain(
        '✓ SPF for bounces.init.test authorises 127.0.0.1: pass (v=spf1 ip4:127.0.0.1 ~all)',
      );
      expect(lines).toContain(
        '✓ DKIM key recap._domainkey.init.test matches DKIM_PRIVATE_KEY_FILE: a message signed with the key verifies against DNS',
      );
      expect(lines.find((l) => l.startsWith('✓ DMARC for init.test'))).toMatch(
        /p=none; aligned by DKIM .* and SPF/,
      );
      expect(lines.find((l) => l.startsWith('✓ Bounce route'))).toContain(
        'MX mx.init.test for bounces.init.test',
      );
      expect(lines).toContain('✓ RECAP_SECRET strength: strong enough');
      expect(lines.find((l) => l.startsWith('✓ Database reachable'))).toBeDefined();
      expect(lines.find((l) => l.startsWith('✓ SMTP reachable'))).toBeDefined();
      // Offline, recap.init.test does not resolve: the one part of the setup not checkable here.
      expect(lines.find((l) => l.startsWith('✗ PUBLIC_URL reachable'))).toBeDefined();
    } finally {
      await dns?.close();
    }
  });
});

describe('recap init refuses', { timeout: 120_000 }, () => {
  it('to replace an existing .env or key without --force, in one line, writing nothing', async () => {
    const dir = tempWorkdir('recap-init-');
    writeFileSync(path.join(dir, '.env'), 'RECAP_SECRET=kept-as-it-was\n', { mode: 0o644 });
    const refused = await runCli(flags(), cleanEnv, dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `recap: ${path.join(dir, '.env')} exists: nothing written (--force replaces it; a new DKIM key needs its new DNS record)\n`,
    );
    expect(readFileSync(path.join(dir, '.env'), 'utf8')).toBe('RECAP_SECRET=kept-as-it-was\n');
    expect(() => statSync(path.join(dir, 'dkim'))).toThrow();

    const keyOnly = tempWorkdir('recap-init-');
    mkdirSync(path.join(keyOnly, 'dkim'));
    writeFileSync(path.join(keyOnly, 'dkim/recap.pem'), 'published key\n');
    const keyRefused = await runCli(flags(), cleanEnv, keyOnly);
    expect(keyRefused.code).toBe(1);
    expect(keyRefused.stderr).toMatch(/^recap: .*\/dkim\/recap\.pem exists: nothing written/);
    expect(() => statSync(path.join(keyOnly, '.env'))).toThrow();
  });

  it('replaces them with --force, keeping the old secret as previous so mailed links keep working', async () => {
    const dir = tempWorkdir('recap-init-');
    const old = 'Old-secret-9f8e7d6c5b4a3921-abcdefghijklmn';
    writeFileSync(path.join(dir, '.env'), `RECAP_SECRET=${old}\n`, { mode: 0o644 });
    const result = await runCli([...flags(), '--force'], cleanEnv, dir);
    expect(result.code).toBe(0);
    const env = dotenv.parse(readFileSync(path.join(dir, '.env')));
    expect(env.RECAP_PREVIOUS_SECRETS).toBe(old);
    expect(env.RECAP_SECRET).not.toBe(old);
    expect(statSync(path.join(dir, '.env')).mode & 0o777).toBe(0o600);
  });

  it('a missing required value, in one line naming the flag and the variable', async () => {
    const dir = tempWorkdir('recap-init-');
    const withoutAddress = flags().filter(
      (_, i, all) => all[i] !== '--postal-address' && all[i - 1] !== '--postal-address',
    );
    const result = await runCli(withoutAddress, cleanEnv, dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'recap: --postal-address is required without a terminal (RECAP_POSTAL_ADDRESS: the postal address in the footer)\n',
    );
    expect(() => statSync(path.join(dir, '.env'))).toThrow();
  });

  it('a bad value, in one line naming the flag', async () => {
    const dir = tempWorkdir('recap-init-');
    const result = await runCli([...flags(), '--dkim-domain', 'not a domain'], cleanEnv, dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'recap: --dkim-domain: expected a domain name, e.g. example.org (got "not a domain")\n',
    );
  });
});
