import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempWorkdir } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

// Where links point when PUBLIC_URL is unset, as a user runs the built CLI.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const STRONG_SECRET = 'Kq3vX9pL2mN8rT5wY7zB4cF6hJ1dG0sA';
let t: TestDatabase | undefined;

beforeAll(async () => {
  const server = await createTestDatabase();
  if (server.url) t = server;
  else await server.close();
});
afterAll(() => t?.close());

/** A fresh data folder and outbox (or the test server's fresh database) for one run. */
const workEnv = () => {
  const dir = tempWorkdir();
  return {
    dir,
    env: {
      RECAP_DATA_DIR: path.join(dir, 'data'),
      RECAP_OUTBOX_DIR: path.join(dir, 'outbox'),
      ...(t?.url ? { DATABASE_URL: t.url } : {}),
    },
  };
};

describe('links follow PORT and HOST while PUBLIC_URL is unset', () => {
  it('`PORT=3930 recap demo` mails List-Unsubscribe and view-in-browser links on port 3930', async () => {
    const { dir, env } = workEnv();
    const result = await runCli(['demo', '--week', '2026-W48'], { ...env, PORT: '3930' });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const outbox = path.join(dir, 'outbox');
    const file = readdirSync(outbox).find((name) => name.endsWith('.eml')) ?? 'missing';
    const mail = await simpleParser(readFileSync(path.join(outbox, file)));
    const listUnsubscribe =
      mail.headerLines.find((h) => h.key === 'list-unsubscribe')?.line.replace(/\r?\n\s+/g, ' ') ?? '';
    expect(listUnsubscribe).toMatch(/<http:\/\/localhost:3930\/u\/[^>]+>/);
    expect(mail.html).toMatch(/href="http:\/\/localhost:3930\/archive\/2026-W48\/[^"]+"/);
    expect(mail.text).toMatch(/http:\/\/localhost:3930\/p\//);
    expect(`${mail.html}${mail.text}${listUnsubscribe}`).not.toContain('localhost:3000');
  }, 180_000);

  it('`recap serve --host 0.0.0.0` prints the bound address, a URL that opens, and links on the same port', async () => {
    const { env } = workEnv();
    const child = spawn(
      process.execPath,
      [path.join(root, 'bin/recap.js'), 'serve', '--host', '0.0.0.0', '--port', '0'],
      {
        cwd: root,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let output = '';
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (/links in mail start at .*\n/.test(output)) resolve();
        });
        child.stderr.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
      });
      const serving =
        /serving on (http:\/\/localhost:(\d+)) \(bound to 0\.0\.0\.0:(\d+): every interface\)/.exec(output);
      expect(serving, output).not.toBeNull();
      const [, url, port, boundPort] = serving as unknown as [string, string, string, string];
      expect(port).toBe(boundPort);
      expect(port).not.toBe('0');
      expect(output).toContain(`links in mail start at http://localhost:${port} (PUBLIC_URL unset`);
      expect(output).not.toContain('serving on http://127.0.0.1');
      const health = await fetch(`${url.replace('localhost', '127.0.0.1')}/healthz`);
      expect(await health.json()).toMatchObject({ status: 'ok' });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 180_000);

  it('refuses a bad --port with one line', async () => {
    const { env } = workEnv();
    const result = await runCli(['serve', '--port', 'eighty'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('recap: --port: expected a port number from 0 to 65535 (got "eighty")\n');
  });
});

describe('in production, an unset PUBLIC_URL', () => {
  const commands = [
    ['send', '--week', '2026-W48'],
    ['worker'],
    ['schedule', '--once'],
    ['demo', '--week', '2026-W48'],
    ['serve', '--port', '3000'],
    ['subscribers', 'sunset'],
  ];
  it.each(commands.map((args) => [args.slice(0, 2).join(' '), args] as const))(
    'stops `recap %s` with one line before it opens anything',
    async (_name, args) => {
      const { dir, env } = workEnv();
      const result = await runCli([...args], { ...env, NODE_ENV: 'production', RECAP_SECRET: STRONG_SECRET });
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(
        /^recap: PUBLIC_URL: required in production \(links in mail would point at http:\/\/localhost:3000\); set the address readers open, e\.g\. https:\/\/recap\.example\.com\n$/,
      );
      // Nothing was opened: no embedded database folder, no outbox.
      expect(readdirSync(dir)).toEqual([]);
    },
    60_000,
  );

  it('leaves commands that mail nothing alone', async () => {
    const { env } = workEnv();
    const result = await runCli(['issue', 'list'], {
      ...env,
      NODE_ENV: 'production',
      RECAP_SECRET: STRONG_SECRET,
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  }, 60_000);
});
