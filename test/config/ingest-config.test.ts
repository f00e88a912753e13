import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';

const load = (env: Record<string, string>) =>
  loadConfig(
    { NODE_ENV: 'test', RECAP_SECRET: 'test-secret-0123456789-abcdefghijklmnop', ...env },
    { dotenvPath: '/nonexistent/.env' },
  );

describe('ingestion settings', () => {
  it('defaults: no API, no feeds, 64 MB, every 15 minutes', () => {
    const { ingest } = load({});
    expect(ingest).toMatchObject({
      tokens: [],
      urls: [],
      maxBytes: 64 * 1024 * 1024,
      cron: '*/15 * * * *',
      timeoutMs: 30_000,
      retries: 2,
      ratePerMinute: 60,
      concurrentUploads: 4,
      minBytesPerSecond: 16 * 1024,
      slowGraceMs: 10_000,
    });
  });

  it('takes the token, its rotated predecessors and several feed URLs', () => {
    const { ingest } = load({
      INGEST_TOKEN: 'a'.repeat(24),
      INGEST_PREVIOUS_TOKENS: `${'b'.repeat(30)}, ${'c'.repeat(24)}`,
      RECAP_STORIES_URL: 'https://a.example/stories.ndjson, http://b.example/feed.json',
      RECAP_STORIES_AUTH: 'Bearer xyz',
    });
    expect(ingest.tokens).toEqual(['a'.repeat(24), 'b'.repeat(30), 'c'.repeat(24)]);
    expect(ingest.urls).toEqual(['https://a.example/stories.ndjson', 'http://b.example/feed.json']);
    expect(ingest.auth).toBe('Bearer xyz');
  });

  it('refuses a short token and a feed that is not http(s), naming the variable', () => {
    expect(() => load({ INGEST_TOKEN: 'short' })).toThrow(/INGEST_TOKEN: expected at least 24 characters/);
    expect(() => load({ INGEST_TOKEN: 'a'.repeat(24), INGEST_PREVIOUS_TOKENS: 'short' })).toThrow(
      /INGEST_PREVIOUS_TOKENS/,
    );
    expect(() => load({ RECAP_STORIES_URL: 'ftp://example.com/x' })).toThrow(
      /RECAP_STORIES_URL: expected comma-separated http\(s\) URLs \(got "ftp:\/\/example.com\/x"\)/,
    );
    expect(() => load({ INGEST_MAX_BYTES: 'lots' })).toThrow(/INGEST_MAX_BYTES/);
    expect(() => load({ INGEST_CONCURRENT_UPLOADS: '0' })).toThrow(/INGEST_CONCURRENT_UPLOADS/);
    expect(() => load({ INGEST_MIN_BYTES_PER_SECOND: 'fast' })).toThrow(/INGEST_MIN_BYTES_PER_SECOND/);
  });
});
