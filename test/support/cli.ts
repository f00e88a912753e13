import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real `recap` binary as a child process, with a clean environment of our choosing; killed
 * after `timeoutMs` (default two minutes).
 */
export function runCli(
  args: string[],
  env: Record<string, string | undefined>,
  cwd = root,
  timeoutMs = 120_000,
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(root, 'bin/recap.js'), ...args],
      {
        cwd,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', ...env },
        timeout: timeoutMs,
      },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

/** A temporary folder for the CLI's embedded database, outbox and secret. */
export function tempWorkdir(prefix = 'recap-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export const fixturesDir = path.join(root, 'test/fixtures');

/** The example story of docs/story.schema.json (also the demo email's fixture). */
export const exampleStoryFile = path.join(root, 'emails/fixtures/story.json');
