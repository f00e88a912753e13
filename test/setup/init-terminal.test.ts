import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import dotenv from 'dotenv';
import { describe, expect, it } from 'vitest';
import { tempWorkdir } from '../support/cli.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Runs `recap init` on a real terminal: util-linux `script` gives it a pseudo-terminal, and the answers
 * are typed ahead, all at once, as a quick typist or a paste does.
 */
function initOnTerminal(dir: string, answers: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('script', ['-qec', `node ${path.join(root, 'bin/recap.js')} init`, '/dev/null'], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TERM: 'dumb' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
    child.stdin.end(`${answers.join('\n')}\n`);
  });
}

describe('recap init on a terminal', { timeout: 120_000 }, () => {
  it('asks each question with its default, asks again after a bad answer, and writes what was answered', async () => {
    const dir = tempWorkdir('recap-init-tty-');
    const { code, output } = await initOnTerminal(dir, [
      'https://recap.example.org',
      'recap@example.org',
      '', // sender name: the default
      'Example Ltd, 1 Main Street, Springfield',
      'not-a-url',
      'smtp://apikey:secret@smtp.sendgrid.net:587',
      ...Array(8).fill(''), // every other default
    ]);
    expect(code).toBe(0);
    expect(output).toContain('expected an smtp:// or smtps:// URL');
    expect(output).toContain('SendGrid is an email service');
    expect(output).toContain('or an email service such as SES (esp)? [esp]');
    // An email service rewrites the return path: no bounce domain is asked or written.
    expect(output).not.toContain('Bounce domain');
    expect(output).toContain('include:sendgrid.net');
    expect(statSync(path.join(dir, '.env')).mode & 0o777).toBe(0o600);
    const env = dotenv.parse(readFileSync(path.join(dir, '.env')));
    expect(env).toMatchObject({
      RECAP_FROM_NAME: 'Weekly AI Recap',
      RECAP_POSTAL_ADDRESS: 'Example Ltd, 1 Main Street, Springfield',
      SMTP_URL: 'smtp://apikey:secret@smtp.sendgrid.net:587',
      TEST_RECIPIENTS: 'recap@example.org',
      TRUST_PROXY: '1',
    });
    expect(env.BOUNCE_DOMAIN).toBeUndefined();
  });

  it('stops at the end of input with nothing written', async () => {
    const dir = tempWorkdir('recap-init-tty-');
    const { code, output } = await initOnTerminal(dir, ['https://recap.example.org']);
    expect(code).not.toBe(0);
    expect(output).toContain('recap: init stopped at the end of input: nothing written');
    expect(() => statSync(path.join(dir, '.env'))).toThrow();
  });
});
