import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/connect.ts';
import { signToken } from '../../src/tracking/token.ts';
import { tempWorkdir } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { SECRET, seedIssue } from './web-fixtures.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let server: TestDatabase | undefined;
afterAll(() => server?.close());

describe('recap serve (child process)', () => {
  it('serves the pixel and, on SIGTERM, stores every answered open before exiting 0', async () => {
    const dir = tempWorkdir();
    const candidate = await createTestDatabase();
    if (candidate.url) server = candidate;
    else await candidate.close();
    // Without a server the child uses the embedded database in its data folder; seed it first.
    const handle = await connectDatabase({ databaseUrl: server?.url, dataDir: path.join(dir, 'data') });
    const seed = await seedIssue(handle.db);
    await handle.close();

    const child = spawn(process.execPath, [path.join(root, 'bin/recap.js'), 'serve', '--port', '0'], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'test',
        RECAP_SECRET: SECRET,
        RECAP_DATA_DIR: path.join(dir, 'data'),
        RECAP_OUTBOX_DIR: path.join(dir, 'outbox'),
        ...(server?.url ? { DATABASE_URL: server.url } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /serving on (http:\/\/[^\s"]+)/.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const token = signToken(
      { current: SECRET, previous: [] },
      { kind: 'open', subscriberId: seed.alice, issueId: seed.issueId },
    );
    for (let i = 0; i < 25; i += 1) {
      const response = await fetch(`${url}/o/${token}`, { headers: { 'user-agent': 'Thunderbird/128.0' } });
      expect(response.status).toBe(200);
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const after = await connectDatabase({ databaseUrl: server?.url, dataDir: path.join(dir, 'data') });
    const rows = await after.db
      .selectFrom('tracking_events')
      .select('class')
      .where('subscriber_id', '=', seed.alice)
      .execute();
    await after.close();
    expect(rows).toHaveLength(25);
    expect(new Set(rows.map((row) => row.class))).toEqual(new Set(['human']));
  }, 180_000);
});
