import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempWorkdir } from '../support/cli.ts';
import { type OwnPostgres, startOwnPostgres } from '../support/own-postgres.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** `recap worker --follow` (the built CLI, as recap-worker.service runs it) idle while its cluster stops and starts. */
describe('an idle recap worker --follow across a database outage', () => {
  let cluster: OwnPostgres;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    cluster = await startOwnPostgres();
  }, 60_000);
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await cluster?.destroy();
  });

  it('logs once that PostgreSQL does not answer, once that it answers again, and keeps running', async () => {
    let output = '';
    child = spawn(process.execPath, ['bin/recap.js', 'worker', '--follow'], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'test',
        DATABASE_URL: cluster.url,
        SMTP_URL: 'smtp://127.0.0.1:9',
        RECAP_SECRET: 'test-secret-test-secret-test-secret-0123',
        PUBLIC_URL: 'https://recap.example.test',
        RECAP_FROM_EMAIL: 'recap@news.example.test',
        RECAP_DATA_DIR: tempWorkdir(),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const until = async (pattern: RegExp, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (Date.now() > deadline || child?.exitCode !== null)
          throw new Error(`no ${pattern} in: ${output} (exit ${child?.exitCode})`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    // Migrated and polling: give it a first poll with the database up.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(child.exitCode).toBeNull();
    await cluster.stop('fast');
    await until(/PostgreSQL does not answer \(.*\): waiting for it/);
    await cluster.start();
    await until(/PostgreSQL answers again after \d+ s: carrying on/);
    expect(output.match(/does not answer/g)).toHaveLength(1);
    expect(output.match(/answers again/g)).toHaveLength(1);
    expect(child.exitCode).toBeNull();
  }, 120_000);
});
