import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempWorkdir } from '../support/cli.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';

// The built CLI with SMTP_URLS: `recap demo` sends its week through two relays, `recap send status`
// tells how many each carried.
let a: SmtpSink;
let b: SmtpSink;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  a = await startSmtpSink();
  b = await startSmtpSink();
  const dir = tempWorkdir();
  env = {
    RECAP_DATA_DIR: path.join(dir, 'data'),
    PUBLIC_URL: 'https://recap.example.com',
    SMTP_URLS: `${a.url}?weight=1,${b.url}?weight=1`,
  };
});
afterAll(async () => {
  await a?.close();
  await b?.close();
});

describe('several relays through the built CLI', () => {
  it('sends through both relays and shows per-relay counts in recap send status', async () => {
    const demo = await runCli(['demo', '--week', '2026-W48'], env);
    expect(demo.stderr).toBe('');
    expect(demo.code).toBe(0);
    expect(demo.stdout).toMatch(/emails\s+220 sent through 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+/);
    expect(a.messages.length + b.messages.length).toBe(220);
    expect(a.messages.length).toBeGreaterThan(0);
    expect(b.messages.length).toBeGreaterThan(0);

    const json = await runCli(['send', 'status', '--week', '2026-W48', '--json'], env);
    expect(json.code).toBe(0);
    const status = JSON.parse(json.stdout) as { relays: Array<{ relay: string; sent: number }> };
    expect(new Map(status.relays.map((r) => [r.relay, r.sent]))).toEqual(
      new Map([
        [`127.0.0.1:${a.port}`, a.messages.length],
        [`127.0.0.1:${b.port}`, b.messages.length],
      ]),
    );
    const text = await runCli(['send', 'status', '--week', '2026-W48'], env);
    expect(text.stdout).toContain('sent per relay');
    expect(text.stdout).toContain(`127.0.0.1:${a.port}  ${a.messages.length}`);
  }, 180_000);
});
