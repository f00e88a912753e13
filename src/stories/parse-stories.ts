import { z } from 'zod';
import { escapeControlCharacters } from '../terminal-output.ts';
import { type Story, storyFromInput, storyInputSchema, unstorableTextReason } from './story.ts';

/**
 * One reason a record was refused: which record (1-based; 0 for the file as a whole), the line of the
 * input it starts on when known (1-based, a CSV header is line 1), its id when known, which field, why.
 */
export interface ImportProblem {
  record: number;
  line?: number;
  id: string | undefined;
  field: string;
  reason: string;
}

export interface ParsedStories {
  stories: Story[];
  problems: ImportProblem[];
  /** Number of records seen, valid or not. */
  total: number;
}

/**
 * "record 2, line 3 (id "x"): url: must be an http(s) URL"; a problem of the whole file (record 0) is its
 * reason, after its line when known ("line 1: invalid CSV: …"). Input quoted in the reason (a parser's message quotes raw bytes) has its
 * control characters escaped, so a binary file prints visible `\x00`s, never terminal controls.
 */
export function formatProblem(problem: ImportProblem): string {
  const id = problem.id === undefined ? '' : ` (id ${JSON.stringify(problem.id)})`;
  const line = problem.line === undefined ? '' : `line ${problem.line}`;
  const text =
    problem.record > 0
      ? `record ${problem.record}${line ? `, ${line}` : ''}${id}: ${problem.field}: ${problem.reason}`
      : `${line ? `${line}: ` : ''}${problem.field === '(file)' ? '' : `${problem.field}: `}${problem.reason}`;
  return escapeControlCharacters(text).replace(/\n/g, '\\n');
}

/** Splits a file into raw records: a JSON array, a single JSON object, or NDJSON (one object per non-blank line). */
function readRecords(text: string): Array<{ record: number; line?: number; value: unknown } | ImportProblem> {
  const trimmed = text.trimStart().replace(/^\uFEFF/, '');
  if (trimmed.startsWith('[')) {
    try {
      const value: unknown = JSON.parse(trimmed);
      if (!Array.isArray(value)) throw new Error('not an array');
      return value.map((item, index) => ({ record: index + 1, value: item }));
    } catch (error) {
      return [
        {
          record: 0,
          id: undefined,
          field: '(file)',
          reason: `invalid JSON array: ${(error as Error).message}`,
        },
      ];
    }
  }
  if (trimmed.startsWith('{')) {
    // A single story, pretty-printed, is a file of one record.
    try {
      return [{ record: 1, value: JSON.parse(trimmed) }];
    } catch {
      // Not one object: read it as NDJSON below.
    }
  }
  const records: Array<{ record: number; line?: number; value: unknown } | ImportProblem> = [];
  let record = 0;
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    if (line.trim() === '') continue;
    record += 1;
    try {
      records.push({ record, line: index + 1, value: JSON.parse(line) });
    } catch (error) {
      records.push({
        record,
        line: index + 1,
        id: undefined,
        field: '(record)',
        reason: `invalid JSON: ${(error as Error).message}`,
      });
    }
  }
  return records;
}

/** A valid record: a story to store, or the withdrawal of one (`"retracted": true`, only `id` needed). */
export type CheckedRecord = { kind: 'story'; story: Story } | { kind: 'retraction'; id: string };

/**
 * Validates one raw record against the story schema. `seen` (id -> record number) is updated so a second
 * record with the same id in one input is refused. Returns the record, or its problems (one per field,
 * each with `line` when given).
 */
export function checkRecord(
  record: number,
  value: unknown,
  seen: Map<string, number>,
  line?: number,
): CheckedRecord | ImportProblem[] {
  const checked = checkValue(record, value, seen);
  if (!Array.isArray(checked) || line === undefined) return checked;
  return checked.map(({ record: at, ...rest }) => ({ record: at, line, ...rest }));
}

function checkValue(
  record: number,
  value: unknown,
  seen: Map<string, number>,
): CheckedRecord | ImportProblem[] {
  const id =
    typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string'
      ? (value as { id: string }).id
      : undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [{ record, id, field: '(record)', reason: 'must be a JSON object' }];
  }
  let checked: CheckedRecord;
  if ((value as { retracted?: unknown }).retracted === true) {
    const parsed = retractionSchema.safeParse(value);
    if (!parsed.success) return zodProblems(record, id, parsed.error.issues);
    checked = { kind: 'retraction', id: parsed.data.id };
  } else {
    const parsed = storyInputSchema.safeParse(value);
    if (!parsed.success) return zodProblems(record, id, parsed.error.issues);
    checked = { kind: 'story', story: storyFromInput(parsed.data) };
  }
  const key = checked.kind === 'story' ? checked.story.id : checked.id;
  const earlier = seen.get(key);
  if (earlier !== undefined) {
    return [{ record, id, field: 'id', reason: `duplicate of record ${earlier} in the same file` }];
  }
  seen.set(key, record);
  return checked;
}

const retractionSchema = z.object({
  id: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(200, 'must be at most 200 characters')
    .superRefine((id, context) => {
      const reason = unstorableTextReason(id);
      if (reason) context.addIssue({ code: 'custom', message: reason });
    }),
});

function zodProblems(
  record: number,
  id: string | undefined,
  issues: ReadonlyArray<{ path: PropertyKey[]; code: string; message: string }>,
): ImportProblem[] {
  return issues.map((issue) => ({
    record,
    id,
    field: issue.path.length > 0 ? issue.path.map(String).join('.') : '(record)',
    reason:
      issue.code === 'invalid_type' && issue.message.includes('undefined') ? 'is required' : issue.message,
  }));
}

/**
 * Parses and validates a stories file (JSON array or NDJSON). Pure: returns every valid story and one
 * problem per invalid field, so the caller can refuse the whole file or import only the valid records.
 * Retraction records are not stories and are left out here (the streaming import handles them).
 */
export function parseStories(text: string): ParsedStories {
  const stories: Story[] = [];
  const problems: ImportProblem[] = [];
  const seen = new Map<string, number>();
  const records = readRecords(text);
  for (const entry of records) {
    if (!('value' in entry)) {
      problems.push(entry);
      continue;
    }
    const checked = checkRecord(entry.record, entry.value, seen, entry.line);
    if (Array.isArray(checked)) problems.push(...checked);
    else if (checked.kind === 'story') stories.push(checked.story);
  }
  // A file-level problem (record 0) is not a record.
  return { stories, problems, total: records.filter((r) => r.record > 0).length };
}
