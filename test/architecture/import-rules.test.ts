import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The dependency rules of docs/architecture.md, checked on every import (static, type-only and dynamic
// `import()`) that TypeScript's own pre-processor finds in src/ and emails/.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Edge {
  from: string;
  to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.(ts|tsx)$/.test(entry.name))
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)));
}

function importsOf(file: string): Edge[] {
  const info = ts.preProcessFile(readFileSync(path.join(root, file), 'utf8'), true, true);
  return info.importedFiles
    .map((imported) => imported.fileName)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => ({ from: file, to: path.normalize(path.join(path.dirname(file), specifier)) }));
}

const edges = [...sourceFiles('src'), ...sourceFiles('emails')].flatMap(importsOf);

function inside(file: string, ...folders: string[]): boolean {
  return folders.some((folder) => file === folder || file.startsWith(`${folder}/`));
}

function violations(rule: (edge: Edge) => boolean): string[] {
  return edges.filter(rule).map((edge) => `${edge.from} -> ${edge.to}`);
}

describe('import rules', () => {
  it('sees the imports it checks', () => {
    // A parser that found nothing would pass every rule below.
    expect(edges.length).toBeGreaterThan(300);
    expect(edges).toContainEqual({ from: 'src/cli/main.ts', to: 'src/cli/issue.commands.ts' });
  });

  it('only src/cli/ imports src/cli/ (the composition root)', () => {
    expect(violations((e) => inside(e.to, 'src/cli') && !inside(e.from, 'src/cli'))).toEqual([]);
  });

  it('src/selection/ stays pure: no database, configuration, issues or rendering', () => {
    expect(
      violations(
        (e) =>
          inside(e.from, 'src/selection') &&
          (inside(e.to, 'src/db', 'src/issues', 'src/render') || e.to === 'src/config.ts'),
      ),
    ).toEqual([]);
  });

  it('src/render/ and emails/ import neither the database nor the configuration', () => {
    expect(
      violations(
        (e) => inside(e.from, 'src/render', 'emails') && (inside(e.to, 'src/db') || e.to === 'src/config.ts'),
      ),
    ).toEqual([]);
  });

  it('only src/cli/ builds the mailer: everything else is handed one', () => {
    expect(violations((e) => e.to === 'src/mail/create-mailer.ts' && !inside(e.from, 'src/cli'))).toEqual([]);
  });

  it('src/mail/ knows nothing of the send pipeline, the database or the configuration beyond its settings', () => {
    expect(
      violations(
        (e) =>
          inside(e.from, 'src/mail') &&
          inside(e.to, 'src/db', 'src/delivery', 'src/issues', 'src/subscribers', 'src/web', 'src/schedule'),
      ),
    ).toEqual([]);
  });

  it('nothing in src/ or emails/ imports test/', () => {
    expect(violations((e) => inside(e.to, 'test'))).toEqual([]);
  });
});
