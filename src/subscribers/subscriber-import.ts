import type { Readable } from 'node:stream';
import { parse as parseStream } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import type { ImportProblem } from '../stories/parse-stories.ts';
import { type Segment, segmentSlug } from '../stories/segment.ts';
import { parseEmailAddress } from './email-address.ts';

export interface SubscriberInput {
  email: string;
  name: string | null;
  timeZone: string | null;
  segmentIds: number[];
  /** The optional `tracking` column (yes/no); null when absent or empty: TRACKING_DEFAULT applies. */
  tracking?: boolean | null;
}

export interface ParsedSubscribers {
  subscribers: SubscriberInput[];
  problems: ImportProblem[];
  total: number;
}

// C0 and C1 control characters, and the Unicode line/paragraph separators that break headers.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const controlCharacters = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Trims and lower-cases an address; the database holds addresses in this one form. */
export function normaliseEmail(raw: string): string {
  return raw.normalize('NFC').trim().toLowerCase();
}

const trackingChoices = new Map<string, boolean | null>([
  ['', null],
  ['yes', true],
  ['no', false],
]);

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** A CSV record longer than this (bytes) is refused with the file: no subscriber row comes near it. */
export const MAX_CSV_RECORD_BYTES = 64 * 1024;

// One set of options for the whole file and the streamed file: the same rows parse the same way.
const csvOptions = (rows: SubscriberRows) => ({
  columns: (header: string[]) => {
    rows.sawHeader = true;
    return header.map((h) => h.trim().toLowerCase());
  },
  skip_empty_lines: true,
  bom: true,
  trim: false,
  relax_column_count: false,
  info: true,
  // A record that does not end (a binary or sparse file) is refused after this many bytes, not read whole.
  max_record_size: MAX_CSV_RECORD_BYTES,
});

interface CsvInfo {
  lines: number;
  empty_lines: number;
}

/** csv-parse's error as one line with the line it was found on. */
function csvProblem(error: unknown): ImportProblem {
  const e = error as { code?: string; lines?: number; message?: string };
  const line = typeof e.lines === 'number' && e.lines > 0 ? { line: e.lines } : {};
  const reason =
    e.code === 'CSV_MAX_RECORD_SIZE'
      ? `a record longer than ${MAX_CSV_RECORD_BYTES / 1024} KiB: not a CSV list of subscribers`
      : `invalid CSV: ${(e.message ?? String(error)).replace(/ (at|on) line \d+\.?$/, '')}`;
  return { record: 0, ...line, id: undefined, field: '(file)', reason };
}

/**
 * Checks subscriber rows one by one against the known segments; the first row's columns decide whether
 * the header is usable. Pure.
 */
class SubscriberRows {
  readonly subscribers: SubscriberInput[] = [];
  readonly problems: ImportProblem[] = [];
  total = 0;
  private readonly bySlug: Map<string, Segment>;
  private readonly seen = new Map<string, number>();
  // Where the previous record ended (the header is line 1) and how many blank lines had been skipped.
  private lastLine = 1;
  private lastEmpty = 0;
  private headerRefused = false;
  /** Set when the parser read the header line. */
  sawHeader = false;

  constructor(private readonly segments: readonly Segment[]) {
    this.bySlug = new Map(segments.map((s) => [s.slug, s]));
  }

  /** Adds one row; returns false once the file is refused as a whole (no "email" column). */
  add(row: Record<string, string>, info: CsvInfo): boolean {
    // csv-parse reports the line a record ends on: it starts after the last one and the blanks between.
    const line = this.lastLine + 1 + (info.empty_lines - this.lastEmpty);
    this.lastLine = info.lines;
    this.lastEmpty = info.empty_lines;
    this.total += 1;
    if (this.total === 1 && !('email' in row)) {
      this.headerRefused = true;
      this.problems.push({
        record: 0,
        line: 1,
        id: undefined,
        field: 'header',
        reason: 'needs an "email" column',
      });
      return false;
    }
    this.check(row, this.total, line);
    return true;
  }

  // Long: one check per column of a subscriber row, each with its own reason.
  private check(row: Record<string, string>, record: number, line: number): void {
    const raw = normaliseEmail(row.email ?? '');
    const parsed = parseEmailAddress(raw);
    const email = parsed.ok ? parsed.address : raw;
    const rowProblems: ImportProblem[] = [];
    const problem = (field: string, reason: string) =>
      rowProblems.push({ record, line, id: email || undefined, field, reason });
    if (!raw) problem('email', 'is required');
    else if (controlCharacters.test(raw))
      problem('email', 'is not a valid email address (control characters)');
    else if (!parsed.ok) problem('email', `is not a valid email address: ${parsed.reason}`);
    const name = (row.name ?? '').trim();
    if (controlCharacters.test(name)) problem('name', 'contains control characters');
    if (name.length > 200) problem('name', 'must be at most 200 characters');
    const timeZone = (row.timezone ?? '').trim();
    if (timeZone && !isTimeZone(timeZone)) problem('timezone', `unknown time zone "${timeZone}"`);
    const trackingCell = (row.tracking ?? '').trim().toLowerCase();
    const tracking = trackingChoices.get(trackingCell);
    if (tracking === undefined) problem('tracking', `expected yes or no (got "${row.tracking}")`);
    const segmentIds: number[] = [];
    const labels = (row.segments ?? '')
      .split(';')
      .map((s) => s.trim())
      .filter(Boolean);
    // A reader with no segment would get nothing: the row is a mistake, not a subscriber.
    if (labels.length === 0)
      problem('segments', 'is required: at least one segment (several separated by ";")');
    for (const label of labels) {
      const segment = this.bySlug.get(segmentSlug(label));
      if (segment) segmentIds.push(segment.id);
      else
        problem(
          'segments',
          `unknown segment "${label}" (known: ${this.segments.map((s) => s.name).join(', ') || 'none yet: import stories first'})`,
        );
    }
    const earlier = email ? this.seen.get(email) : undefined;
    if (earlier !== undefined) problem('email', `duplicate of line ${earlier} in the same file`);
    if (rowProblems.length > 0) {
      this.problems.push(...rowProblems);
      return;
    }
    this.seen.set(email, line);
    this.subscribers.push({
      email,
      name: name || null,
      timeZone: timeZone || null,
      segmentIds: [...new Set(segmentIds)],
      ...(tracking === null || tracking === undefined ? {} : { tracking }),
    });
  }

  /** The result; an input with no header, or a header and no rows, is a file-level problem. */
  result(): ParsedSubscribers {
    if (this.headerRefused) return { subscribers: [], problems: this.problems, total: this.total };
    if (this.total === 0)
      this.problems.push({
        record: 0,
        id: undefined,
        field: '(file)',
        reason: this.sawHeader ? 'the file has a header but no subscriber rows' : 'the file is empty',
      });
    return { subscribers: this.subscribers, problems: this.problems, total: this.total };
  }
}

/**
 * Parses a subscribers CSV (header: email,name,segments[,timezone][,tracking]; segments separated by ';',
 * by name or slug; tracking yes/no). Pure: validates every row against the known segments and returns the
 * problems per field, with the line of each (the header is line 1). An empty file is a problem.
 */
export function parseSubscribersCsv(text: string, segments: readonly Segment[]): ParsedSubscribers {
  const rows = new SubscriberRows(segments);
  let entries: Array<{ record: Record<string, string>; info: CsvInfo }>;
  try {
    entries = parse(text, csvOptions(rows)) as unknown as typeof entries;
  } catch (error) {
    return { subscribers: [], problems: [csvProblem(error)], total: 0 };
  }
  for (const { record, info } of entries) if (!rows.add(record, info)) break;
  return rows.result();
}

/**
 * The streamed form of parseSubscribersCsv, for files: rows are parsed as the bytes arrive, so memory
 * follows the rows kept, not the file; a record past MAX_CSV_RECORD_BYTES refuses the file at once.
 */
export async function readSubscribersCsv(
  input: Readable,
  segments: readonly Segment[],
  options: { onRecord?: (total: number) => void } = {},
): Promise<ParsedSubscribers> {
  const rows = new SubscriberRows(segments);
  const parser = input.pipe(parseStream(csvOptions(rows)));
  input.on('error', (error) => parser.destroy(error));
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: CsvInfo;
    }>) {
      if (!rows.add(record, info)) break;
      options.onRecord?.(rows.total);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code?.startsWith('CSV_'))
      return { subscribers: [], problems: [csvProblem(error)], total: rows.total };
    throw error;
  } finally {
    input.destroy();
  }
  return rows.result();
}
