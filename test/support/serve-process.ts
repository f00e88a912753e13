import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ServeProcess {
  url: string;
  /** The editor's token: the one printed on the "editor at" line, or EDITOR_TOKEN when set. */
  editorToken: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string | null>;
}

/** Starts the built `recap serve --port 0` as a user would, and resolves once it listens. */
export function startServe(env: Record<string, string>): Promise<ServeProcess> {
  const child = spawn(process.execPath, [path.join(root, 'bin/recap.js'), 'serve', '--port', '0'], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /serving on (http:\/\/[^\s"]+)/.exec(output);
      const editorToken = env.EDITOR_TOKEN ?? printedEditorToken(output);
      if (match?.[1] && editorToken)
        resolve({ url: match[1], editorToken, child, output: () => output, exited });
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    exited.then((code) => reject(new Error(`recap serve exited with ${code}: ${output}`)));
  });
}

/** The token of the editor link `recap serve` printed (a token made for that start), once the line is whole. */
export function printedEditorToken(output: string): string | undefined {
  const token = /editor at http:\/\/[^\s"?]+\/\?token=([A-Za-z0-9_-]+)[\s"]/.exec(output)?.[1];
  return token === undefined ? undefined : decodeURIComponent(token);
}

export interface LoadResult {
  sent: number;
  /** Pixels answered 200 and clicks answered 302. */
  answered: number;
  /** 503 answers (with Retry-After): allowed only when answers wait for the write. */
  refused: number;
  /** Anything else: another status, or no answer at all. */
  failed: string[];
}

/**
 * Sends pixel and click requests (alternating) at `perSecond` for `durationMs`, each with the same
 * user agent so the events of one run can be counted, and waits for every answer.
 */
export async function sendTrackingLoad(options: {
  url: string;
  pixel: string;
  click: string;
  perSecond: number;
  durationMs: number;
  userAgent: string;
}): Promise<LoadResult> {
  const result: LoadResult = { sent: 0, answered: 0, refused: 0, failed: [] };
  const requests: Array<Promise<void>> = [];
  const started = Date.now();
  const one = async (index: number) => {
    const isClick = index % 2 === 1;
    try {
      const response = await fetch(
        `${options.url}/${isClick ? `c/${options.click}` : `o/${options.pixel}`}`,
        {
          redirect: 'manual',
          headers: { 'user-agent': options.userAgent },
          signal: AbortSignal.timeout(30_000),
        },
      );
      await response.arrayBuffer();
      if (response.status === (isClick ? 302 : 200)) result.answered += 1;
      else if (response.status === 503 && response.headers.get('retry-after')) result.refused += 1;
      else result.failed.push(`${isClick ? 'click' : 'pixel'} ${response.status}`);
    } catch (error) {
      result.failed.push(
        `${isClick ? 'click' : 'pixel'}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  };
  while (Date.now() - started < options.durationMs) {
    const due = Math.floor(((Date.now() - started) / 1000) * options.perSecond);
    while (result.sent < due) requests.push(one(result.sent++));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await Promise.all(requests);
  return result;
}
