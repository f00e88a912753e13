import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/connect.ts';
import type { Db } from '../../src/db/database.ts';
import { upsertStories } from '../../src/stories/story.repository.ts';
import { escapeControlCharacters, writeOut } from '../../src/terminal-output.ts';
import { generateWeek } from '../selection/week-generator.ts';
import { tempWorkdir } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin/recap.js');
// Clears the screen, then an OSC 8 hyperlink to another site, then a carriage return over the line.
const HOSTILE = '\x1b[2J\x1b]8;;https://evil.example/\x07Read me\x1b]8;;\x07\r';

let server: TestDatabase | undefined;
let env: Record<string, string | undefined>;

async function seed(db: Db): Promise<void> {
  const week = generateWeek({ seed: 3, events: 12 });
  await db.transaction().execute((trx) => upsertStories(trx, week.stories));
  await sql`UPDATE stories SET title = ${HOSTILE}::text || title`.execute(db);
}

beforeAll(async () => {
  const dir = tempWorkdir();
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    RECAP_DATA_DIR: path.join(dir, 'data'),
    RECAP_OUTBOX_DIR: path.join(dir, 'outbox'),
    RECAP_TZ: 'UTC',
  };
  const candidate = await createTestDatabase();
  if (candidate.url) {
    server = candidate;
    env.DATABASE_URL = candidate.url;
    await seed(candidate.db);
  } else {
    await candidate.close();
    const handle = await connectDatabase({ databaseUrl: undefined, dataDir: env.RECAP_DATA_DIR as string });
    await seed(handle.db);
    await handle.close();
  }
});
afterAll(() => server?.close());

/** Runs recap inside a pseudo-terminal (util-linux `script`), as a person at a terminal would. */
function runOnTerminal(args: string[]): Promise<{ code: number; output: string }> {
  const command = [process.execPath, bin, ...args].map((part) => `'${part}'`).join(' ');
  return new Promise((resolve) => {
    execFile(
      'script',
      ['-qec', command, '/dev/null'],
      { env, cwd: root, timeout: 120_000 },
      (error, stdout) => resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout }),
    );
  });
}

describe('CLI output', () => {
  it('escapes control characters and terminal escape sequences in data printed to a terminal', async () => {
    const { code, output } = await runOnTerminal(['issue', 'build', '--week', '2026-W48']);
    expect(code).toBe(0);
    expect(output).toContain('\\x1b[2J');
    expect(output).toContain('\\x1b]8;;https://evil.example/\\x07');
    expect(output).not.toContain('\x1b');
    expect(output).not.toContain('\x07');
  });

  it('writes piped output unchanged and escapes only for terminals', () => {
    const written: string[] = [];
    writeOut(`a${HOSTILE}b\n`, { isTTY: true, write: (text: string) => written.push(text) });
    writeOut(`a${HOSTILE}b\n`, { isTTY: false, write: (text: string) => written.push(text) });
    expect(written[0]).toBe('a\\x1b[2J\\x1b]8;;https://evil.example/\\x07Read me\\x1b]8;;\\x07\\x0db\n');
    expect(written[1]).toBe(`a${HOSTILE}b\n`);
    expect(escapeControlCharacters('tab\tand\nnewline \u009b1m \u2028')).toBe(
      'tab\tand\nnewline \\x9b1m \\u2028',
    );
  });

  it('ends quietly with exit 0 when the reader of its output goes away (recap issue list | head -1)', async () => {
    const child = spawn(process.execPath, [bin, 'issue', 'list'], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The reader is gone before the command writes anything: every write meets a closed pipe.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (exit) => resolve(exit)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
