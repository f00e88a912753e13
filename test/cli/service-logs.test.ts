import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createServiceLogger, prettyLine } from '../../src/cli/service-logger.ts';
import { signToken } from '../../src/tracking/token.ts';
import { tempWorkdir } from '../support/cli.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SECRET = 'test-secret-0123456789-abcdefghijklmnop';
const STACK_LINE = /^\s+at /m;

/** Records what a logger writes, one entry per write. */
function capture(isTTY = false) {
  const lines: string[] = [];
  return { lines, destination: { isTTY, write: (text: string) => lines.push(text) } };
}

describe('the service logger', () => {
  it('writes one JSON record per event with the error message and code, and no stack below debug', () => {
    const { lines, destination } = capture();
    const logger = createServiceLogger({ format: undefined, level: 'info' }, destination);
    logger.error({ err: Object.assign(new Error('relay refused'), { code: 'ECONNREFUSED' }) }, 'send failed');
    logger.debug('not written at info');
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0] as string);
    expect(record).toMatchObject({ level: 50, msg: 'send failed', err: { message: 'relay refused' } });
    expect(record.err.code).toBe('ECONNREFUSED');
    expect(record.err.stack).toBeUndefined();
    expect(lines[0]).not.toMatch(STACK_LINE);
  });

  it('keeps the stack at LOG_LEVEL=debug', () => {
    const { lines, destination } = capture();
    createServiceLogger({ format: 'json', level: 'debug' }, destination).error(
      { err: new Error('boom') },
      'failed',
    );
    expect(JSON.parse(lines[0] as string).err.stack).toMatch(STACK_LINE);
  });

  it('writes human lines on a terminal, or when LOG_FORMAT=pretty', () => {
    const tty = capture(true);
    createServiceLogger({ format: undefined, level: 'info' }, tty.destination)
      .child({ component: 'schedule' })
      .warn({ week: '2026-W49' }, 'waiting for approval');
    expect(tty.lines[0]).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z WARN {2}schedule: waiting for approval week=2026-W49\n$/,
    );
    const forced = capture(false);
    createServiceLogger({ format: 'pretty', level: 'info' }, forced.destination).info('hello');
    expect(forced.lines[0]).toMatch(/ INFO {2}hello\n$/);
    const json = capture(true);
    createServiceLogger({ format: 'json', level: 'info' }, json.destination).info('hello');
    expect(JSON.parse(json.lines[0] as string).msg).toBe('hello');
  });

  it('prints an error message beside its line, and a line it cannot parse as it is', () => {
    expect(prettyLine('{"level":50,"time":"t","msg":"failed","err":{"message":"boom"}}')).toBe(
      't ERROR failed (boom)\n',
    );
    expect(prettyLine('not json')).toBe('not json\n');
  });
});

describe('recap serve logs (the built CLI)', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill('SIGKILL');
    child = undefined;
  });

  /** Starts `recap serve` on the embedded database; resolves with its URL and everything it wrote. */
  async function serve(env: Record<string, string>) {
    const dir = tempWorkdir();
    const started = spawn(process.execPath, [path.join(root, 'bin/recap.js'), 'serve', '--port', '0'], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'test',
        RECAP_SECRET: SECRET,
        RECAP_DATA_DIR: path.join(dir, 'data'),
        RECAP_OUTBOX_DIR: path.join(dir, 'outbox'),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    const output = { stdout: '', stderr: '' };
    started.stderr?.on('data', (chunk: Buffer) => {
      output.stderr += chunk.toString();
    });
    const url = await new Promise<string>((resolve, reject) => {
      started.stdout?.on('data', (chunk: Buffer) => {
        output.stdout += chunk.toString();
        const match = /serving on (http:\/\/[^\s"]+)/.exec(output.stdout);
        if (match?.[1]) resolve(match[1]);
      });
      started.once('exit', (code) =>
        reject(new Error(`exited with ${code}: ${output.stdout}${output.stderr}`)),
      );
    });
    const stop = async () => {
      const exited = new Promise((resolve) => started.once('exit', resolve));
      started.kill('SIGTERM');
      await exited;
      return output;
    };
    return { url, stop };
  }

  /** A 404, two bad requests and a 500 (a signed id PostgreSQL cannot hold fails in the database). */
  async function requestsThatFail(url: string) {
    const overflowing = signToken(
      { current: SECRET, previous: [] },
      { kind: 'preferences', subscriberId: '99999999999999999999999' },
    );
    const statuses = [
      (await fetch(`${url}/no-such-page`)).status,
      (await fetch(`${url}/o/%zz`)).status,
      (
        await fetch(`${url}/subscribe`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{not json',
        })
      ).status,
      (await fetch(`${url}/p/${overflowing}`)).status,
    ];
    expect(statuses).toEqual([404, 400, 400, 500]);
  }

  it('writes only JSON lines with LOG_FORMAT=json, errors without a stack; LOG_LEVEL=debug adds the stack', async () => {
    const plain = await serve({ LOG_FORMAT: 'json' });
    await requestsThatFail(plain.url);
    const { stdout, stderr } = await plain.stop();
    const lines = stdout.split('\n').filter((line) => line !== '');
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.map((record) => record.msg)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^serving on http/), 'bad request', 'request failed']),
    );
    const failed = records.find((record) => record.msg === 'request failed') as {
      err: Record<string, unknown>;
    };
    expect(failed.err.message).toMatch(/out of range/);
    expect(failed.err.stack).toBeUndefined();
    expect(`${stdout}${stderr}`).not.toMatch(STACK_LINE);

    const debug = await serve({ LOG_FORMAT: 'json', LOG_LEVEL: 'debug' });
    await requestsThatFail(debug.url);
    const debugOut = (await debug.stop()).stdout;
    const debugRecords = debugOut
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { msg?: string; err?: { stack?: string } });
    expect(debugRecords.find((record) => record.msg === 'request failed')?.err?.stack).toMatch(STACK_LINE);
  }, 180_000);
});
