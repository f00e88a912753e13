import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

const load = (env: Record<string, string>) =>
  loadConfig(
    { NODE_ENV: 'test', RECAP_SECRET: 'test-secret-0123456789-abcdefghijklmnop', ...env },
    { dotenvPath: '/nonexistent/.env' },
  );

describe('tracking default and sunsetting settings', () => {
  it('defaults to tracking new readers and sunsetting after 26 issues with 14 days to answer', () => {
    const config = load({});
    expect(config.trackingDefault).toBe(true);
    expect(config.sunset).toEqual({ afterIssues: 26, graceDays: 14 });
  });

  it('reads TRACKING_DEFAULT like TRACKING_ENABLED, and SUNSET_AFTER_ISSUES=0 turns sunsetting off', () => {
    expect(load({ TRACKING_DEFAULT: 'false' }).trackingDefault).toBe(false);
    expect(load({ TRACKING_DEFAULT: 'no' }).trackingDefault).toBe(false);
    expect(load({ SUNSET_AFTER_ISSUES: '0', SUNSET_GRACE_DAYS: '3' }).sunset).toEqual({
      afterIssues: 0,
      graceDays: 3,
    });
  });

  it('refuses bad values with the variable name', () => {
    expect(() => load({ TRACKING_DEFAULT: 'maybe' })).toThrow(ConfigError);
    expect(() => load({ TRACKING_DEFAULT: 'maybe' })).toThrow(/TRACKING_DEFAULT: expected true or false/);
    expect(() => load({ SUNSET_AFTER_ISSUES: '-1' })).toThrow(/SUNSET_AFTER_ISSUES/);
    expect(() => load({ SUNSET_AFTER_ISSUES: 'often' })).toThrow(
      /SUNSET_AFTER_ISSUES: expected a whole number/,
    );
    expect(() => load({ SUNSET_GRACE_DAYS: '0' })).toThrow(/SUNSET_GRACE_DAYS/);
  });
});
