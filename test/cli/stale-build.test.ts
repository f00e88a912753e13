import { readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';

// bin/recap.js runs dist/ only while it matches the sources: an edited source makes the next start
// rebuild first, so a stale build never runs silently.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const buildScript = pathToFileURL(path.join(root, 'scripts/build-cli.js')).href;

interface BuildModule {
  buildCli(): Promise<string>;
  freshEntry(): string | null;
}

describe('the compiled CLI', () => {
  it('is rebuilt by the next start when a source file changed after the build', async () => {
    const build = (await import(buildScript)) as BuildModule;
    const entry = await build.buildCli();
    expect(build.freshEntry()).toBe(entry);

    const source = path.join(root, 'src/errors.ts');
    const before = statSync(source);
    try {
      // As if saved by an editor a moment ago: same content, new mtime.
      const later = new Date(Math.max(Date.now(), before.mtimeMs) + 2_000);
      utimesSync(source, later, later);
      expect(build.freshEntry()).toBeNull();
      const result = await runCli(['--help'], {});
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Usage: recap');
      // The start rebuilt dist/ for the new stamp.
      const rebuilt = build.freshEntry();
      expect(rebuilt).not.toBeNull();
      expect(rebuilt).not.toBe(entry);
    } finally {
      utimesSync(source, before.atime, before.mtime);
    }
  });

  it('holds the system mail templates: no file is read relative to a chunk, and a template edit rebuilds', async () => {
    const build = (await import(buildScript)) as BuildModule;
    const entry = await build.buildCli();
    const folder = path.dirname(entry);
    const modules = [
      entry,
      ...readdirSync(path.join(folder, 'chunks')).map((name) => path.join(folder, 'chunks', name)),
    ];
    // In dist/build-*/chunks/ a path relative to the module leads nowhere (it once looked for dist/templates/).
    const relative = modules.filter((file) => readFileSync(file, 'utf8').includes('import.meta.url'));
    expect(relative).toEqual([]);
    const built = modules.map((file) => readFileSync(file, 'utf8')).join('\n');
    expect(built).toContain('Confirm your Weekly AI Recap subscription');

    const template = path.join(root, 'templates/confirm.mjml');
    const before = statSync(template);
    try {
      const later = new Date(Math.max(Date.now(), before.mtimeMs) + 2_000);
      utimesSync(template, later, later);
      expect(build.freshEntry()).toBeNull();
    } finally {
      utimesSync(template, before.atime, before.mtime);
    }
    // Restoring the time keeps only whole microseconds of it, so the build may count as stale: build again.
    const rebuilt = await build.buildCli();
    expect(build.freshEntry()).toBe(rebuilt);
  });
});
