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

/**
 * Parses a subscribers CSV (header: email,name,segments[,timezone][,tracking]; segments separated by ';',
 * by name or slug; tracking yes/no). Pure: validates every row against the known segments and returns the problems per field.
 */
export function parseSubscribersCsv(text: string, segments: readonly Segment[]): ParsedSubscribers {
  let rows: Record<string, string>[];
  try {
    rows = parse(text, {
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      skip_empty_lines: true,
      bom: true,
      trim: false,
      relax_column_count: false,
    });
  } catch (error) {
    return {
      subscribers: [],
      problems: [
        { record: 0, id: undefined, field: '(file)', reason: `invalid CSV: ${(error as Error).message}` },
      ],
      total: 0,
    };
  }
  const bySlug = new Map(segments.map((s) => [s.slug, s]));
  const problems: ImportProblem[] = [];
  const subscribers: SubscriberInput[] = [];
  const seen = new Map<string, number>();
  const first = rows[0];
  if (first && !('email' in first)) {
    return {
      subscribers: [],
      problems: [{ record: 0, id: undefined, field: '(header)', reason: 'needs an "email" column' }],
      total: rows.length,
    };
  }
  rows.forEach((row, index) => {
    const record = index + 1;
    const raw = normaliseEmail(row.email ?? '');
    const parsed = parseEmailAddress(raw);
    const email = parsed.ok ? parsed.address : raw;
    const rowProblems: ImportProblem[] = [];
    const problem = (field: string, reason: string) =>
      rowProblems.push({ record, id: email || undefined, field, reason });
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
    for (const label of (row.segments ?? '')
      .split(';')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const segment = bySlug.get(segmentSlug(label));
      if (segment) segmentIds.push(segment.id);
      else
        problem(
          'segments',
          `unknown segment "${label}" (known: ${segments.map((s) => s.name).join(', ') || 'none yet: import stories first'})`,
        );
    }
    if (email && seen.has(email)) problem('email', `duplicate of record ${seen.get(email)} in the same file`);
    if (rowProblems.length > 0) {
      problems.push(...rowProblems);
      return;
    }
    seen.set(email, record);
    subscribers.push({
      email,
      name: name || null,
      timeZone: timeZone || null,
      segmentIds: [...new Set(segmentIds)],
      ...(tracking === null || tracking === undefined ? {} : { tracking }),
    });
  });
  return { subscribers, problems, total: rows.length };
}
