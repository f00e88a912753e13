import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempWorkdir } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

// Each command loads what it uses: a command that prints help or lists issues must not pay for React,
// MJML, the web server or the mailer. The recorder preloaded into the child lists every module it resolved.
const recorder = fileURLToPath(new URL('../support/module-recorder.js', import.meta.url));
const heavy = ['react', 'react-dom', 'react-email', 'mjml', 'fastify', 'nodemailer', 'smtp-server'];

let t: TestDatabase | undefined;
let dir: string;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  dir = tempWorkdir();
  const server = await createTestDatabase();
  if (server.url) t = server;
  else await server.close();
  env = {
    RECAP_DATA_DIR: path.join(dir, 'data'),
    RECAP_OUTBOX_DIR: path.join(dir, 'outbox'),
    DATABASE_URL: t?.url,
  };
});
afterAll(() => t?.close());

async function packagesLoadedBy(args: string[], name: string) {
  const file = path.join(dir, `${name}.modules`);
  const result = await runCli(args, {
    ...env,
    NODE_OPTIONS: `--import ${recorder}`,
    RECAP_RECORD_MODULES: file,
  });
  const urls = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const packages = new Set(
    urls.map((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1] ?? '(own)'),
  );
  return { result, urls, packages };
}

describe('recap start-up (child process)', () => {
  it('prints its help without loading react, mjml, fastify or the mailer', async () => {
    const { result, urls, packages } = await packagesLoadedBy(['--help'], 'help');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: recap');
    // The recorder saw the process: the CLI itself and its argument parser.
    expect(packages).toContain('commander');
    expect(urls.some((url) => url.includes('/dist/') || url.includes('/src/cli/'))).toBe(true);
    for (const name of heavy) expect([...packages], name).not.toContain(name);
  });

  it('lists issues without loading react, mjml, fastify or the mailer', async () => {
    const { result, packages } = await packagesLoadedBy(['issue', 'list'], 'issue-list');
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('no issues yet');
    // The database driver is loaded: the command did reach PostgreSQL (or PGlite through it).
    expect(packages).toContain('pg');
    for (const name of heavy) expect([...packages], name).not.toContain(name);
  });

  it('runs compiled JavaScript, not TypeScript compiled on load', async () => {
    const { urls } = await packagesLoadedBy(['--help'], 'compiled');
    expect(urls.filter((url) => url.endsWith('.ts') || url.endsWith('.tsx'))).toEqual([]);
    expect(urls.some((url) => url.includes('/node_modules/tsx/'))).toBe(false);
  });
});
