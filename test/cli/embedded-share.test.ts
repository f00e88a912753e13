import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempWorkdir } from '../support/cli.ts';

// A second terminal beside `recap serve` on the embedded database, with the built CLI a user runs.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = tempWorkdir('recap-second-terminal-');
const env = {
  RECAP_DATA_DIR: path.join(dir, 'data'),
  RECAP_OUTBOX_DIR: path.join(dir, 'outbox'),
  PUBLIC_URL: 'https://recap.example.com',
};
let stopServer: (() => void) | undefined;
afterAll(() => stopServer?.());

describe('recap commands beside `recap serve` on the embedded database', () => {
  it('list, report and send through the server, which sees what they write', async () => {
    const demo = await runCli(['demo', '--week', '2026-W48'], env);
    expect(demo.stderr).toBe('');
    expect(demo.code).toBe(0);

    const server = spawn(process.execPath, [path.join(root, 'bin/recap.js'), 'serve', '--port', '0'], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    stopServer = () => server.kill('SIGKILL');
    let output = '';
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      server.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /serving on (http:\/\/[^\s"]+)/.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
      server.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      exited.then((code) => reject(new Error(`serve exited with ${code}: ${output}`)));
    });

    const list = await runCli(['issue', 'list'], env);
    expect(list.stderr).toBe('');
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('2026-W48');

    const stats = await runCli(['stats', '--week', '2026-W48', '--json'], env);
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout).totals.sent).toBe(220);

    const send = await runCli(['send', '--week', '2026-W48'], env);
    expect(send.code).toBe(0);
    expect(send.stdout).toContain('2026-W48');
    expect(send.stdout).toContain('nothing left to send');

    // A whole week built, approved and sent by a second process lands in the server's archive.
    const before = await (await fetch(`${url}/archive`)).text();
    expect(before).not.toContain('2026-W49');
    const another = await runCli(['demo', '--week', '2026-W49'], env);
    expect(another.code).toBe(0);
    const mailed = Number(/emails\s+(\d+) sent to /.exec(another.stdout)?.[1]);
    expect(mailed).toBeGreaterThan(0);
    const archive = await fetch(`${url}/archive`);
    expect(archive.status).toBe(200);
    expect(await archive.text()).toContain('2026-W49');
    const sent = await runCli(['stats', '--week', '2026-W49', '--json'], env);
    expect(JSON.parse(sent.stdout).totals.sent).toBe(mailed);

    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    stopServer = undefined;
    expect(existsSync(path.join(env.RECAP_DATA_DIR, 'recap.sock'))).toBe(false);
    // With the server gone, a command opens the folder itself.
    const alone = await runCli(['issue', 'list'], env);
    expect(alone.code).toBe(0);
    expect(alone.stdout).toContain('2026-W49');
  }, 600_000);
});
