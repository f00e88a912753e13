import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { runCli } from '../support/cli.ts';

const load = (env: Record<string, string>) =>
  loadConfig(
    { NODE_ENV: 'test', RECAP_SECRET: 'test-secret-0123456789-abcdefghijklmnop', ...env },
    { dotenvPath: '/nonexistent/.env' },
  );

describe('relay settings: SMTP_URLS, SYSTEM_SMTP_URL and mx: limits', () => {
  it('reads SMTP_URLS as weighted relays and takes the weight out of the URL nodemailer gets', () => {
    const config = load({
      SMTP_URLS:
        'smtp://u:p%40w@a.example:587?weight=3,smtps://b.example?weight=1&tls.rejectUnauthorized=false, smtp://a.example:587',
    });
    expect(config.smtp.relays).toEqual([
      { name: 'a.example:587', url: 'smtp://u:p%40w@a.example:587', weight: 3 },
      { name: 'b.example:465', url: 'smtps://b.example?tls.rejectUnauthorized=false', weight: 1 },
      { name: 'a.example:587#2', url: 'smtp://a.example:587', weight: 1 },
    ]);
    expect(config.smtp.url).toBe('smtp://u:p%40w@a.example:587');
    expect(config.smtp.systemUrl).toBeUndefined();
  });

  it('keeps SMTP_URL as the one-relay form, and reads SYSTEM_SMTP_URL', () => {
    const config = load({ SMTP_URL: 'smtp://relay.example:25', SYSTEM_SMTP_URL: 'smtps://tx.example:465' });
    expect(config.smtp.relays).toEqual([
      { name: 'relay.example:25', url: 'smtp://relay.example:25', weight: 1 },
    ]);
    expect(config.smtp.systemUrl).toBe('smtps://tx.example:465');
    expect(load({}).smtp.relays).toEqual([]);
  });

  it('refuses SMTP_URL and SMTP_URLS together in one line naming both, and a weight that is not positive', () => {
    let error: unknown;
    try {
      load({ SMTP_URL: 'smtp://a.example:587', SMTP_URLS: 'smtp://b.example:587' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toMatch(/SMTP_URL and SMTP_URLS are both set/);
    for (const bad of ['smtp://a.example?weight=0', 'smtp://a.example?weight=heavy', 'http://a.example', ','])
      expect(() => load({ SMTP_URLS: bad }), bad).toThrow(/SMTP_URLS: expected comma-separated smtp/);
    expect(() => load({ SYSTEM_SMTP_URL: 'mailto:x@example.test' })).toThrow(/SYSTEM_SMTP_URL/);
  });

  it('reads mx:<suffix>=N keys of SEND_DOMAIN_LIMITS beside the domain keys', () => {
    const config = load({ SEND_DOMAIN_LIMITS: 'gmail.com=20, mx:Google.com=15,mx:outlook.com=10' });
    expect(config.send.domainLimits).toEqual({ 'gmail.com': 20 });
    expect(config.send.mxLimits).toEqual({ 'google.com': 15, 'outlook.com': 10 });
    expect(() => load({ SEND_DOMAIN_LIMITS: 'mx:=5' })).toThrow(/SEND_DOMAIN_LIMITS/);
  });

  it('the built CLI stops at start, with one line, when both SMTP_URL and SMTP_URLS are set', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'recap-relays-'));
    const result = await runCli(['issue', 'list'], {
      RECAP_DATA_DIR: dir,
      SMTP_URL: 'smtp://a.example:587',
      SMTP_URLS: 'smtp://b.example:587?weight=2,smtp://c.example:587',
    });
    expect(result.code).not.toBe(0);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/SMTP_URL and SMTP_URLS are both set/);
  }, 60_000);
});
