import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempWorkdir } from '../support/cli.ts';

// Usage errors are decided before any database opens: these runs need no data folder beyond a temp one.
const dir = tempWorkdir();
const env = { RECAP_DATA_DIR: path.join(dir, 'data'), RECAP_OUTBOX_DIR: path.join(dir, 'outbox') };
const packageVersion = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;

describe('recap usage (child process)', () => {
  it('prints the package version for --version and -V', async () => {
    for (const flag of ['--version', '-V']) {
      const result = await runCli([flag], env);
      expect(result).toEqual({ code: 0, stdout: `${packageVersion}\n`, stderr: '' });
    }
  });

  it('answers an unknown command or option with one line, a suggestion and where help is', async () => {
    const command = await runCli(['improt', 'stories', 'x.json'], env);
    expect(command.code).not.toBe(0);
    expect(command.stdout).toBe('');
    expect(command.stderr).toBe(
      "recap: unknown command 'improt' (did you mean import?)\n(run 'recap --help' for usage)\n",
    );

    const sub = await runCli(['issue', 'buidl'], env);
    expect(sub.code).not.toBe(0);
    expect(sub.stderr).toBe(
      "recap: unknown command 'buidl' (did you mean build?)\n(run 'recap issue --help' for usage)\n",
    );

    const option = await runCli(['issue', 'build', '--wek', '2026-W48'], env);
    expect(option.code).not.toBe(0);
    expect(option.stderr).toBe(
      "recap: unknown option '--wek' (did you mean --week?)\n(run 'recap issue build --help' for usage)\n",
    );

    // Nothing close: no suggestion, and still no page of help.
    const unknown = await runCli(['--frobnicate'], env);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toBe("recap: unknown option '--frobnicate'\n(run 'recap --help' for usage)\n");
    expect(unknown.stderr).not.toContain('Commands:');
  });
});
