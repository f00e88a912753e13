import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { printedEditorToken } from './serve-process.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ServedCli {
  /** The address printed on the "serving on" line. */
  url: string;
  /** The editor's token: the one printed on the "editor at" line, or EDITOR_TOKEN when set. */
  editorToken: string;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** A TCP port nobody listens on right now (to give PORT and PUBLIC_URL the same value before start). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts `recap serve` from the built CLI (bin/recap.js) as a child process, with a clean environment
 * of our choosing, and resolves once it prints its "serving on" line; rejects with its output if it
 * exits first.
 */
export async function startServeCli(env: Record<string, string | undefined>, cwd = root): Promise<ServedCli> {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(
    process.execPath,
    [path.join(root, 'bin/recap.js'), 'serve'],
    {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const { url, editorToken } = await new Promise<{ url: string; editorToken: string }>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /serving on (http:\/\/[^\s"]+)/.exec(output);
      const token = env.EDITOR_TOKEN ?? printedEditorToken(output);
      if (match?.[1] && token) resolve({ url: match[1], editorToken: token });
    });
    void exited.then((code) => reject(new Error(`recap serve exited with ${code}:\n${output}`)));
  });
  return {
    url,
    editorToken,
    output: () => output,
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
