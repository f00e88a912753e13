import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleStoryFile, runCli, tempWorkdir } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

// The CLI runs as a child process: against its own database on the server when one is configured,
// else against an embedded database in a temporary folder.
let t: TestDatabase | undefined;
let env: Record<string, string | undefined>;
let dir: string;

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

describe('recap import (child process)', () => {
  it('imports the example story, updates it on re-import, refuses a malformed file whole', async () => {
    const example = exampleStoryFile;
    const first = await runCli(['import', 'stories', example], env);
    expect(first.stderr).toBe('');
    expect(first.stdout).toContain('imported 1 story');
    expect((await runCli(['import', 'stories', example], env)).code).toBe(0);

    const bad = path.join(dir, 'bad.ndjson');
    writeFileSync(
      bad,
      [
        JSON.stringify({
          id: 'fine',
          title: 'Fine',
          url: 'https://example.com/fine',
          source: { name: 'Ex' },
          publishedAt: '2026-11-23T10:00:00Z',
        }),
        JSON.stringify({
          id: 'evil',
          title: 'Evil',
          url: 'javascript:alert(1)',
          source: { name: 'Ex' },
          publishedAt: '2026-11-23T10:00:00Z',
        }),
      ].join('\n'),
    );
    const refused = await runCli(['import', 'stories', bad], env);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('nothing imported');
    expect(refused.stderr).toContain('record 2, line 2 (id "evil"): url: must be an http(s) URL');
    expect(refused.stderr).not.toMatch(/\n\s+at /); // no stack trace

    const partial = await runCli(['import', 'stories', bad, '--skip-invalid'], env);
    expect(partial.code).toBe(0);
    expect(partial.stdout).toContain('imported 1 story');
    expect(partial.stderr).toContain('record 2, line 2 (id "evil")');

    const csv = path.join(dir, 'subs.csv');
    writeFileSync(
      csv,
      'email,name,segments\nann@example.com,Ann,Founders & Product Leaders\nbad address,Bob,Founders & Product Leaders\n',
    );
    const subs = await runCli(['import', 'subscribers', csv], env);
    expect(subs.code).not.toBe(0);
    expect(subs.stderr).toContain('record 2, line 3 (id "bad address"): email: is not a valid email address');
    const missing = await runCli(['import', 'stories', path.join(dir, 'nope.json')], env);
    expect(missing.stderr).toBe(`recap: cannot read ${path.join(dir, 'nope.json')}: ENOENT\n`);
  });
});
