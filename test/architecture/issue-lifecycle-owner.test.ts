import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// One owner of the issue's state machine: only src/issues/issue-lifecycle.ts writes `issues.status` or
// the timestamps that go with it. Every write to the issues table in src/ is found (Kysely's
// updateTable/insertInto and raw SQL), and its statement is searched for those columns.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OWNER = 'src/issues/issue-lifecycle.ts';
const LIFECYCLE_COLUMNS = /\b(status|approved_at|send_started_at|send_finished_at)\b/;

function sourceFiles(): string[] {
  return readdirSync(path.join(root, 'src'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name))
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .filter((file) => !file.includes(`${path.sep}migrations${path.sep}`));
}

/** Each write to the issues table: the file and the statement's text up to its end (or the next query). */
function issueWrites(file: string): { file: string; statement: string }[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  const starts =
    /updateTable\(\s*['"]issues['"]\s*\)|insertInto\(\s*['"]issues['"]\s*\)|UPDATE\s+issues\b|INSERT\s+INTO\s+issues\b/gi;
  const writes: { file: string; statement: string }[] = [];
  for (const match of text.matchAll(starts)) {
    const rest = text.slice(match.index);
    const end = rest.search(/\.execute|\.executeTakeFirst|`\.execute|;\n/);
    writes.push({ file, statement: rest.slice(0, end === -1 ? 400 : end) });
  }
  return writes;
}

describe('the issue lifecycle has one owner', () => {
  const writes = sourceFiles().flatMap(issueWrites);

  it('sees the writes it checks', () => {
    // A search that found nothing would pass the rule below.
    expect(writes.filter((w) => w.file === OWNER).length).toBeGreaterThanOrEqual(6);
    expect(writes.some((w) => w.file === 'src/issues/build-issue.ts')).toBe(true);
  });

  it(`only ${OWNER} writes issues.status, approved_at, send_started_at or send_finished_at`, () => {
    const outside = writes
      .filter((w) => w.file !== OWNER && LIFECYCLE_COLUMNS.test(w.statement))
      .map((w) => `${w.file}: ${w.statement.replace(/\s+/g, ' ').slice(0, 120)}`);
    expect(outside).toEqual([]);
  });
});
