import { writeFileSync } from 'node:fs';
import { truncate } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleStoryFile, runCli, tempWorkdir } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

// Bad and odd input through the built CLI: what the person at the terminal reads.
let t: TestDatabase | undefined;
let env: Record<string, string | undefined>;
let dir: string;

// C0 controls but newline, DEL and C1 controls: none may reach the terminal raw.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const rawControl = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

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

function file(name: string, content: string | Buffer): string {
  const target = path.join(dir, name);
  writeFileSync(target, content);
  return target;
}

describe('recap import, bad input (child process)', () => {
  it('subscribers: line numbers count the header, a row without segments is refused, a re-import is unchanged', async () => {
    // The segment arrives with the example story.
    expect((await runCli(['import', 'stories', exampleStoryFile], env)).code).toBe(0);
    const segment = 'Founders & Product Leaders';
    const bad = file(
      'bad.csv',
      `email,name,segments\nann@example.com,Ann,${segment}\n\nbad address,Bob,${segment}\ncid@example.com,Cid,\n`,
    );
    const refused = await runCli(['import', 'subscribers', bad], env);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr.split('\n')).toEqual([
      `recap: ${bad}: nothing imported, 2 of 3 records are invalid:`,
      'record 2, line 4 (id "bad address"): email: is not a valid email address: has no "@"',
      'record 3, line 5 (id "cid@example.com"): segments: is required: at least one segment (several separated by ";")',
      '(use --skip-invalid to import the subscribers that are valid)',
      '',
    ]);

    const good = file(
      'good.csv',
      `email,name,segments\nann@example.com,Ann,${segment}\ndee@example.com,Dee,${segment}\n`,
    );
    const first = await runCli(['import', 'subscribers', good], env);
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe(`imported 2 subscribers from ${good} (2 new)\n`);
    const again = await runCli(['import', 'subscribers', good], env);
    expect(again.stdout).toBe(`imported 2 subscribers from ${good} (2 unchanged)\n`);
  });

  it('empty, sparse and binary files are refused with one line', async () => {
    const emptyCsv = file('empty.csv', '');
    const emptyJson = file('empty.json', '');
    for (const [kind, input] of [
      ['subscribers', emptyCsv],
      ['stories', emptyJson],
    ] as const) {
      const result = await runCli(['import', kind, input], env);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toBe(`recap: ${input}: nothing imported, the file is empty\n`);
    }

    // 1 GB of NUL bytes (sparse: no disk used). Read whole, it was refused as "Invalid string length".
    const sparse = path.join(dir, 'sparse.csv');
    writeFileSync(sparse, '');
    await truncate(sparse, 1024 ** 3);
    const huge = await runCli(['import', 'subscribers', sparse], env);
    expect(huge.code).not.toBe(0);
    expect(huge.stderr).toBe(
      `recap: ${sparse}: nothing imported, line 1: a record longer than 64 KiB: not a CSV list of subscribers\n`,
    );

    // A binary file as stories: one line, not one per "line" of the file with its bytes quoted raw.
    const binary = file(
      'binary.json',
      Buffer.concat([
        Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0]),
        Buffer.from('\n\u001b[2J\u0007\r\n'.repeat(300)),
      ]),
    );
    const bin = await runCli(['import', 'stories', binary], env);
    expect(bin.code).not.toBe(0);
    expect(bin.stderr).toMatch(
      /^recap: .*binary\.json: nothing imported, not JSON or NDJSON text: binary data/,
    );
    expect(bin.stderr.split('\n')).toHaveLength(2);
    expect(bin.stderr).not.toMatch(rawControl);
  });

  it('parse errors are escaped, numbered and capped at 20 lines', async () => {
    // Text that is not JSON, line after line, with terminal escapes in it: 20 lines, then a count.
    const lines = Array.from({ length: 30 }, (_, i) => `not json \u001b[31m${i}\u0007`);
    const noisy = file('noisy.ndjson', `${lines.join('\n')}\n`);
    const noise = await runCli(['import', 'stories', noisy], env);
    expect(noise.code).not.toBe(0);
    expect(noise.stderr).not.toMatch(rawControl);
    const printed = noise.stderr.trimEnd().split('\n');
    expect(printed[0]).toBe(`recap: ${noisy}: nothing imported, 30 of 30 records are invalid:`);
    expect(printed.filter((l) => l.startsWith('record '))).toHaveLength(20);
    expect(printed[1]).toMatch(/^record 1, line 1: \(record\): invalid JSON: .*\\x1b\[31m0\\x07/);
    expect(printed).toContain('… and 10 more problems');

    // A JSON array: the record's index and the line it starts on.
    const array = file(
      'array.json',
      '[\n  {"id": "a", "title": "A", "url": "https://example.com/a", "source": {"name": "Ex"}, "publishedAt": "2026-11-23T10:00:00Z"},\n\n  {"id": "b",\n   "url": "javascript:alert(1)"}\n]\n',
    );
    const arrayResult = await runCli(['import', 'stories', array], env);
    expect(arrayResult.code).not.toBe(0);
    expect(arrayResult.stderr).toContain('record 2, line 4 (id "b"): url: must be an http(s) URL');
  });
});
