import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configVariables, loadConfig, missingPublicUrl } from '../../src/config.ts';

const dir = () => mkdtempSync(path.join(tmpdir(), 'recap-config-'));
const noDotenv = { dotenvPath: '/nonexistent/.env' };

describe('config', () => {
  it('runs on embedded defaults and keeps a generated secret', () => {
    const dataDir = dir();
    const config = loadConfig({ RECAP_DATA_DIR: dataDir }, noDotenv);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.smtp.url).toBeUndefined();
    expect(config.timeZone).toBe('UTC');
    expect(config.secrets.current.length).toBeGreaterThanOrEqual(32);
    expect(loadConfig({ RECAP_DATA_DIR: dataDir }, noDotenv).secrets.current).toBe(config.secrets.current);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('guards the HTML size at 90 KB unless told otherwise, and refuses a limit no email fits', () => {
    expect(loadConfig({ RECAP_DATA_DIR: dir() }, noDotenv).maxHtmlBytes).toBe(92_160);
    expect(loadConfig({ RECAP_DATA_DIR: dir(), RECAP_MAX_HTML_BYTES: '70000' }, noDotenv).maxHtmlBytes).toBe(
      70_000,
    );
    expect(() => loadConfig({ RECAP_DATA_DIR: dir(), RECAP_MAX_HTML_BYTES: '90KB' }, noDotenv)).toThrow(
      /RECAP_MAX_HTML_BYTES: expected a whole number of bytes/,
    );
    expect(() => loadConfig({ RECAP_DATA_DIR: dir(), RECAP_MAX_HTML_BYTES: '500' }, noDotenv)).toThrow(
      /RECAP_MAX_HTML_BYTES: expected at least 20000 bytes/,
    );
  });

  it('names every bad variable and what it expected', () => {
    const bad = {
      RECAP_DATA_DIR: dir(),
      SMTP_URL: 'http://mail',
      PORT: 'eighty',
      RECAP_TZ: 'Mars/Base',
      RECAP_FROM_EMAIL: 'nobody',
    };
    expect(() => loadConfig(bad, noDotenv)).toThrow(ConfigError);
    try {
      loadConfig(bad, noDotenv);
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('SMTP_URL: expected an smtp:// or smtps:// URL (got "http://mail")');
      expect(message).toContain('PORT: expected a port number');
      expect(message).toContain('RECAP_TZ: expected an IANA time zone');
      expect(message).toContain('RECAP_FROM_EMAIL: expected an email address');
    }
    expect(() => loadConfig({ NODE_ENV: 'production', RECAP_DATA_DIR: dir() }, noDotenv)).toThrow(
      /RECAP_SECRET/,
    );
  });

  it('reads .env, with the real environment winning', () => {
    const folder = dir();
    const dotenvPath = path.join(folder, '.env');
    writeFileSync(dotenvPath, 'RECAP_TZ=Europe/Berlin\nPORT=4000\n');
    const config = loadConfig({ RECAP_DATA_DIR: folder, PORT: '5000' }, { dotenvPath });
    expect(config.timeZone).toBe('Europe/Berlin');
    expect(config.http.port).toBe(5000);
  });

  it('points links at the server PORT and HOST start while PUBLIC_URL and EDITOR_URL are unset', () => {
    const load = (env: Record<string, string>, listen = {}) =>
      loadConfig({ RECAP_DATA_DIR: dir(), ...env }, { ...noDotenv, listen });
    expect(load({})).toMatchObject({ publicUrl: 'http://localhost:3000', publicUrlSet: false });
    expect(load({ PORT: '3930' }).publicUrl).toBe('http://localhost:3930');
    expect(load({ PORT: '3930', HOST: '0.0.0.0' }).publicUrl).toBe('http://localhost:3930');
    expect(load({ PORT: '3930', HOST: '::' }).publicUrl).toBe('http://localhost:3930');
    expect(load({ PORT: '3930', HOST: '192.168.1.20' }).publicUrl).toBe('http://192.168.1.20:3930');
    expect(load({ HOST: '::1' }).publicUrl).toBe('http://[::1]:3000');
    // `recap serve --port --host` feed the same derivation, and win over PORT and HOST.
    const flagged = load({ PORT: '3930' }, { port: 4100, host: '10.0.0.5' });
    expect(flagged.http).toMatchObject({ port: 4100, host: '10.0.0.5', editorUrl: undefined });
    expect(flagged.publicUrl).toBe('http://10.0.0.5:4100');
    const set = load({ PORT: '3930', PUBLIC_URL: 'https://recap.example.com/' }, { port: 4100 });
    expect(set).toMatchObject({ publicUrl: 'https://recap.example.com', publicUrlSet: true });
  });

  it('refuses an unset PUBLIC_URL in production, with one line, only where links are mailed', () => {
    const production = loadConfig(
      { NODE_ENV: 'production', RECAP_SECRET: 'Kq3vX9pL2mN8rT5wY7zB4cF6hJ1dG0sA', RECAP_DATA_DIR: dir() },
      noDotenv,
    );
    const refusal = missingPublicUrl(production);
    expect(refusal).toMatch(
      /^PUBLIC_URL: required in production \(links in mail would point at http:\/\/localhost:3000\)/,
    );
    expect(refusal).not.toContain('\n');
    expect(missingPublicUrl({ ...production, publicUrlSet: true })).toBeNull();
    expect(missingPublicUrl(loadConfig({ RECAP_DATA_DIR: dir() }, noDotenv))).toBeNull();
  });

  it('reads the public pages settings, refusing frame ancestors that would break out of the CSP', () => {
    const defaults = loadConfig({ RECAP_DATA_DIR: dir() }, noDotenv).publicPages;
    expect(defaults).toMatchObject({ archivePublic: true, embedAncestors: '*', privacyUrl: undefined });
    const set = loadConfig(
      {
        RECAP_DATA_DIR: dir(),
        ARCHIVE_PUBLIC: 'false',
        PRIVACY_URL: 'https://example.org/privacy',
        SIGNUP_EMBED_ANCESTORS: "  https://blog.example.com   https://*.example.org:8443 'self' ",
      },
      noDotenv,
    ).publicPages;
    expect(set).toMatchObject({
      archivePublic: false,
      privacyUrl: 'https://example.org/privacy',
      embedAncestors: "https://blog.example.com https://*.example.org:8443 'self'",
    });
    for (const bad of [
      "* ; script-src 'unsafe-inline'",
      'https://a.example,https://b.example',
      "'unsafe-inline'",
    ]) {
      expect(() => loadConfig({ RECAP_DATA_DIR: dir(), SIGNUP_EMBED_ANCESTORS: bad }, noDotenv)).toThrow(
        /SIGNUP_EMBED_ANCESTORS: expected space-separated CSP frame-ancestors sources/,
      );
    }
    expect(() => loadConfig({ RECAP_DATA_DIR: dir(), PRIVACY_URL: 'javascript:alert(1)' }, noDotenv)).toThrow(
      /PRIVACY_URL: expected an http\(s\):\/\/ URL/,
    );
  });

  it("sends in each reader's own order unless PERSONAL_ORDER=off, and refuses any other value in one line", () => {
    expect(loadConfig({ RECAP_DATA_DIR: dir() }, noDotenv).personalOrder).toBe(true);
    expect(loadConfig({ RECAP_DATA_DIR: dir(), PERSONAL_ORDER: 'on' }, noDotenv).personalOrder).toBe(true);
    expect(loadConfig({ RECAP_DATA_DIR: dir(), PERSONAL_ORDER: 'off' }, noDotenv).personalOrder).toBe(false);
    for (const bad of ['yes', 'OFF', '0']) {
      expect(() => loadConfig({ RECAP_DATA_DIR: dir(), PERSONAL_ORDER: bad }, noDotenv)).toThrow(
        `invalid configuration:\n  PERSONAL_ORDER: expected on or off (got "${bad}")`,
      );
    }
  });

  it('documents every variable in .env.example', () => {
    const example = readFileSync(path.join(import.meta.dirname, '../../.env.example'), 'utf8');
    const documented = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    expect(configVariables.filter((name) => !documented.has(name))).toEqual([]);
  });
});
