import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// Functions stay short enough to read at once: over MAX_LINES, a comment beside the function (or the
// function it sits in) says why, starting "Long:". Parsed with TypeScript's own parser. Migrations are
// left out: each is one frozen script, never edited once released.
const MAX_LINES = 80;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function isFunction(node: ts.Node): node is ts.FunctionLikeDeclaration {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node) ||
    ts.isMethodDeclaration(node)
  );
}

/** A "Long:" reason in the comments before this node or any node it is part of. */
function hasReason(node: ts.Node, source: ts.SourceFile): boolean {
  for (let current: ts.Node | undefined = node; current; current = current.parent) {
    const trivia = source.text.slice(current.getFullStart(), current.getStart(source));
    if (/\bLong:/.test(trivia)) return true;
  }
  return false;
}

function longFunctions(): string[] {
  const files = readdirSync(path.join(root, 'src'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter((file) => !file.includes(`${path.sep}migrations${path.sep}`));
  const found: string[] = [];
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node) => {
      if (isFunction(node)) {
        const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        if (last - first + 1 > MAX_LINES && !hasReason(node, source))
          found.push(`${path.relative(root, file)}:${first + 1} (${last - first + 1} lines)`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

describe('function length', () => {
  it(`keeps functions under ${MAX_LINES} lines, or says why beside them`, () => {
    expect(longFunctions()).toEqual([]);
  });
});
