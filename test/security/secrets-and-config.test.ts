import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { describeWeakSecret, EXAMPLE_SECRET_PLACEHOLDER } from '../../src/secret-strength.ts';
import { runCli, tempWorkdir } from '../support/cli.ts';

const noDotenv = { dotenvPath: '/nonexistent/.env' };
const STRONG = 'q3J9vX2mT7bL0sK5wR8eY1uZ4nA6cD-f';
const production = (env: Record<string, string>) =>
  loadConfig(
    {
      NODE_ENV: 'production',
      RECAP_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'recap-sec-')),
      RECAP_SECRET: STRONG,
      ...env,
    },
    noDotenv,
  );
const errorOf = (load: () => unknown): string => {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('weak secrets', () => {
  it('describes the placeholder, repeated and low-variety secrets; accepts a random one', () => {
    expect(describeWeakSecret(EXAMPLE_SECRET_PLACEHOLDER)).toMatch(/placeholder/);
    expect(describeWeakSecret('a'.repeat(40))).toMatch(/repeated character/);
    expect(describeWeakSecret('abc123'.repeat(7))).toMatch(/repeated/);
    expect(describeWeakSecret('aaaabbbbccccddddaaaabbbbccccddddee')).toMatch(/distinct/);
    expect(describeWeakSecret('short')).toMatch(/32/);
    expect(describeWeakSecret(STRONG)).toBeNull();
  });

  it('refuses them in production with one line per variable, naming the variable, never the value', () => {
    for (const secret of [EXAMPLE_SECRET_PLACEHOLDER, 'a'.repeat(48), '0123456789'.repeat(4).slice(0, 36)]) {
      const message = errorOf(() => production({ RECAP_SECRET: secret }));
      expect(message).toMatch(/^invalid configuration:\n {2}RECAP_SECRET: refused in production: .+$/);
      expect(message).not.toContain(secret);
    }
    const previous = errorOf(() => production({ RECAP_PREVIOUS_SECRETS: `${STRONG}x,${'b'.repeat(40)}` }));
    expect(previous).toMatch(/RECAP_PREVIOUS_SECRETS: entry 2 refused in production/);
    expect(production({}).secrets.current).toBe(STRONG);
    // Outside production the demo keeps working with whatever it is given.
    expect(
      loadConfig(
        { RECAP_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'recap-sec-')), RECAP_SECRET: 'a'.repeat(40) },
        noDotenv,
      ).secrets.current,
    ).toBe('a'.repeat(40));
  });

  it('refuses TRUST_PROXY=true in production with what to set instead', () => {
    const message = errorOf(() => production({ TRUST_PROXY: 'true' }));
    expect(message).toMatch(/TRUST_PROXY: .*hop.*CIDR/);
    expect(production({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(production({ TRUST_PROXY: '10.0.0.0/8' }).trustProxy).toEqual(['10.0.0.0/8']);
  });
});

describe('configuration errors mask secrets and URL credentials', () => {
  it('masks the userinfo of bad URLs and the value of short secrets', () => {
    const message = errorOf(() =>
      loadConfig(
        {
          RECAP_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'recap-sec-')),
          SMTP_URL: 'http://mailer:hunter2-smtp@mail.example.org:587',
          DATABASE_URL: 'mysql://root:hunter2-db@db.example.org/recap',
          RECAP_SECRET: 'hunter2-short',
        },
        noDotenv,
      ),
    );
    expect(message).toContain('SMTP_URL');
    expect(message).toContain('DATABASE_URL');
    expect(message).toContain('RECAP_SECRET');
    expect(message).toContain('http://***@mail.example.org:587');
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('mailer:');
  });

  it('the CLI prints no credentials of an unreachable or invalid DATABASE_URL', async () => {
    const dir = tempWorkdir();
    const result = await runCli(['migrate'], {
      RECAP_DATA_DIR: path.join(dir, 'data'),
      DATABASE_URL: 'postgres://recap:hunter2-cli@127.0.0.1:1/recap',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^recap: /);
    expect(result.stderr).not.toContain('hunter2');
    const invalid = await runCli(['migrate'], {
      RECAP_DATA_DIR: path.join(dir, 'data'),
      DATABASE_URL: 'mysql://recap:hunter2-cli@db/recap',
    });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('DATABASE_URL');
    expect(invalid.stderr).not.toContain('hunter2');
  });
});
