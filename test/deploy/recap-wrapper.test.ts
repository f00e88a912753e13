// The `/usr/local/bin/recap` wrapper docs/deploy.md has the operator write, run as cron runs the backup
// line it suggests: with cron's PATH (/usr/bin:/bin, no /usr/sbin, where runuser lives).
import { execFile } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempWorkdir } from '../support/cli.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The script between `sudo tee /usr/local/bin/recap … <<'EOF'` and `EOF` in docs/deploy.md. */
function wrapperFromDoc(): string {
  const doc = readFileSync(path.join(root, 'docs/deploy.md'), 'utf8');
  const match = /sudo tee \/usr\/local\/bin\/recap >\/dev\/null <<'EOF'\n([\s\S]*?)\nEOF\n/.exec(doc);
  if (!match?.[1]) throw new Error('docs/deploy.md no longer writes /usr/local/bin/recap with a heredoc');
  return `${match[1]}\n`;
}

describe("docs/deploy.md's recap wrapper", () => {
  it('names runuser by its full path, so it runs under cron', () => {
    expect(wrapperFromDoc()).toMatch(/exec \/usr\/sbin\/runuser -u recap -- /);
  });

  // runuser needs root; elsewhere only the text is checked.
  it.skipIf(userInfo().uid !== 0)(
    'runs `recap --version` with cron’s PATH',
    async () => {
      const dir = tempWorkdir('recap-wrapper-');
      const script = wrapperFromDoc()
        .replace('cd /etc/recap', `cd ${dir}`)
        .replace('-u recap', '-u root')
        .replace('/opt/recap/bin/recap.js', path.join(root, 'bin/recap.js'));
      const file = path.join(dir, 'recap');
      writeFileSync(file, script);
      chmodSync(file, 0o755);
      const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(
          file,
          ['--version'],
          { env: { PATH: '/usr/bin:/bin', HOME: dir } },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        ),
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    },
    60_000,
  );
});
