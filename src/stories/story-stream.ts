import type { ImportProblem } from './parse-stories.ts';

/** A raw record as read from the input, before validation: 1-based number, first line, parsed JSON value. */
export interface RawRecord {
  record: number;
  line?: number;
  value: unknown;
}

/** Thrown while reading when the input grows past its byte limit; nothing read so far may be kept. */
export class InputTooLargeError extends Error {
  override name = 'InputTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`larger than the limit of ${maxBytes} bytes`);
  }
}

export interface ReadRecordsOptions {
  /** 'ndjson' reads one record per line whatever the first character; 'auto' looks (array, object, NDJSON). */
  format?: 'auto' | 'ndjson';
  /** Stop with InputTooLargeError past this many bytes. */
  maxBytes?: number;
  /** Called with the bytes read so far after every chunk. */
  onBytes?: (bytes: number) => void;
}

/** A record longer than this is refused as a record; the rest of the input is still read. */
const MAX_RECORD_CHARS = 1024 * 1024;
/** Bytes decoded at a time: the text held between records stays a small, young string. */
const DECODE_BYTES = 32 * 1024;
/** A single pretty-printed object is read whole; past this size the input must be NDJSON or an array. */
const MAX_PRETTY_CHARS = 8 * 1024 * 1024;

/**
 * Reads stories input record by record from a byte stream (a file, an HTTP body, a feed): a JSON array
 * (split element by element without holding the whole array), NDJSON (one record per non-blank line) or
 * a single, possibly pretty-printed, object. Memory is bounded by the largest record, not the input.
 * Yields raw records and problems: a record that is not JSON is a record-level problem; an input whose
 * structure cannot be read (an array never closed) a file-level one (record 0).
 */
// Long: one streaming parser (JSON array or NDJSON) whose state lives across chunks.
export async function* readStoryRecords(
  input: AsyncIterable<Uint8Array | string>,
  options: ReadRecordsOptions = {},
): AsyncGenerator<RawRecord | ImportProblem> {
  const decoder = new TextDecoder('utf-8');
  let bytes = 0;
  let mode: 'unknown' | 'array' | 'lines' | 'pretty' = 'unknown';
  let buffer = '';
  let record = 0;
  // The line of the input where `buffer` starts (lines and pretty modes).
  let bufferLine = 1;
  // Lines of blank text read (and dropped) before the first character.
  let blankLines = 0;
  let array = new ArraySplitter(1, MAX_RECORD_CHARS);
  const tooLarge = (line: number): ImportProblem => ({
    record: ++record,
    line,
    id: undefined,
    field: '(record)',
    reason: `larger than ${MAX_RECORD_CHARS} characters`,
  });
  const parse = (text: string, line: number): RawRecord | ImportProblem => {
    if (text.length > MAX_RECORD_CHARS) return tooLarge(line);
    record += 1;
    try {
      return { record, line, value: JSON.parse(text) };
    } catch (error) {
      return {
        record,
        line,
        id: undefined,
        field: '(record)',
        reason: `invalid JSON: ${(error as Error).message}`,
      };
    }
  };

  function* lines(final: boolean): Generator<RawRecord | ImportProblem> {
    let start = 0;
    for (;;) {
      const end = buffer.indexOf('\n', start);
      if (end === -1) break;
      const line = buffer.slice(start, end);
      start = end + 1;
      if (line.trim() !== '') yield parse(line, bufferLine);
      bufferLine += 1;
    }
    buffer = buffer.slice(start);
    if (final && buffer.trim() !== '') {
      yield parse(buffer, bufferLine);
      buffer = '';
    }
    if (buffer.length > MAX_RECORD_CHARS) {
      // An endless line: refuse it as one record and skip to its end.
      yield parse(buffer, bufferLine);
      buffer = '';
      skipLine = true;
    }
  }
  let skipLine = false;
  // Set once the input is refused as a whole: nothing more is read.
  let stopped = false;

  const take = function* (text: string, final: boolean): Generator<RawRecord | ImportProblem> {
    if (mode === 'unknown') {
      buffer += text;
      const trimmed = buffer.replace(/^\uFEFF/, '').trimStart();
      if (trimmed === '' && !final) {
        // Only blank so far: count its lines and keep nothing, however much of it comes.
        blankLines += countNewlines(buffer, buffer.length);
        buffer = '';
        return;
      }
      // JSON never holds a raw NUL: this is a binary file, and each of its "lines" is not worth a report.
      const nul = buffer.indexOf('\u0000');
      if (nul !== -1) {
        stopped = true;
        yield {
          record: 0,
          id: undefined,
          field: '(file)',
          reason: `not JSON or NDJSON text: binary data (a NUL byte near character ${nul + 1})`,
        };
        return;
      }
      bufferLine = 1 + blankLines + countNewlines(buffer, buffer.length - trimmed.length);
      if (trimmed.startsWith('[')) {
        mode = 'array';
        text = trimmed;
        array = new ArraySplitter(bufferLine, MAX_RECORD_CHARS);
        buffer = '';
      } else if (options.format === 'ndjson' || !trimmed.startsWith('{')) {
        mode = 'lines';
        buffer = trimmed;
        text = '';
      } else {
        // NDJSON when the first line is a whole value; else one pretty-printed object, read whole.
        // A first line longer than a record is read as one (and refused), not held until it ends.
        const newline = trimmed.indexOf('\n');
        if (newline === -1 && !final && trimmed.length <= MAX_RECORD_CHARS) return;
        mode = newline === -1 || isWholeValue(trimmed.slice(0, newline)) ? 'lines' : 'pretty';
        buffer = trimmed;
        text = '';
      }
    }
    if (mode === 'array') {
      for (const element of array.push(text))
        yield 'text' in element ? parse(element.text, element.line) : tooLarge(element.line);
      if (final) {
        const problem = array.finish();
        if (problem) yield { record: 0, id: undefined, field: '(file)', reason: problem };
      }
      return;
    }
    if (mode === 'lines') {
      if (skipLine) {
        const end = text.indexOf('\n');
        if (end === -1) return;
        skipLine = false;
        bufferLine += 1;
        text = text.slice(end + 1);
      }
      buffer += text;
      yield* lines(final);
      return;
    }
    buffer += text;
    if (buffer.length > MAX_PRETTY_CHARS) {
      // Not one object after all (or an absurdly large one): read the rest as NDJSON.
      mode = 'lines';
      yield* lines(final);
      return;
    }
    if (final) {
      try {
        yield { record: ++record, line: bufferLine, value: JSON.parse(buffer) };
        buffer = '';
      } catch {
        mode = 'lines';
        yield* lines(true);
      }
    }
  };

  for await (const chunk of input) {
    if (stopped) return;
    const size = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    bytes += size;
    if (options.maxBytes !== undefined && bytes > options.maxBytes)
      throw new InputTooLargeError(options.maxBytes);
    options.onBytes?.(bytes);
    if (typeof chunk === 'string') {
      yield* take(chunk, false);
      continue;
    }
    // Decoded piece by piece: a string past V8's large-object size (128 KiB) is only ever freed by a full
    // collection, and one held across the consumer's awaits would be kept until then, chunk after chunk.
    for (let start = 0; start < chunk.byteLength && !stopped; start += DECODE_BYTES) {
      const piece = chunk.subarray(start, Math.min(start + DECODE_BYTES, chunk.byteLength));
      yield* take(decoder.decode(piece, { stream: true }), false);
    }
  }
  if (!stopped) yield* take(decoder.decode(), true);
}

/** Newlines among the first `end` characters of `text`. */
function countNewlines(text: string, end: number): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) count += 1;
  return count;
}

/** True when the line holds one complete JSON value (braces balanced outside strings). */
function isWholeValue(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    // A line such as `{"id": 1}}` or `{"id": oops}` is still one NDJSON record (an invalid one).
    let depth = 0;
    let inString = false;
    let escaped = false;
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 92) escaped = true;
        else if (c === 34) inString = false;
      } else if (c === 34) inString = true;
      else if (c === 123 || c === 91) depth += 1;
      else if (c === 125 || c === 93) depth -= 1;
    }
    return depth <= 0;
  }
}

/** An element of a JSON array: its text and first line, or only its first line once it passed the cap. */
type ArrayElement = { text: string; line: number } | { tooLarge: true; line: number };

/**
 * Splits the text of a JSON array into its elements' texts as chunks arrive, tracking nesting and
 * strings, so the array is never held whole, and the line each element starts on. Each chunk is scanned
 * once and the current element kept as a list of pieces (never re-copied); an element that grows past
 * `maxChars` is reported as soon as it does and the rest of it is scanned without being kept, so at most
 * `maxChars` plus one chunk is held whatever the array holds. The first chunk starts with '[', on line `line`.
 */
export class ArraySplitter {
  // The current element's text, piece by piece, and its length.
  private pieces: string[] = [];
  private chars = 0;
  // The current element passed the cap: reported already, scanned to its end without being kept.
  private skipping = false;
  // The line of the current element's first non-blank character, once seen.
  private elementLine: number | undefined;
  private depth = 0;
  private inString = false;
  private escape = false;
  private opened = false;
  private closed = false;
  private trailing = false;
  private commas = 0;

  constructor(
    private line: number,
    private readonly maxChars: number,
  ) {}

  /** Characters of the input held now (the current element's pieces). */
  get heldChars(): number {
    return this.chars;
  }

  /** Ends the current element at `end` of `chunk` (from `start`); undefined when it was skipped. */
  private end(chunk: string, start: number, end: number): ArrayElement | undefined {
    const line = this.elementLine ?? this.line;
    const skipped = this.skipping;
    const tooLarge = this.chars + (end - start) > this.maxChars;
    const text = skipped || tooLarge ? '' : this.pieces.join('') + chunk.slice(start, end);
    this.pieces = [];
    this.chars = 0;
    this.skipping = false;
    this.elementLine = undefined;
    if (skipped) return undefined;
    return tooLarge ? { tooLarge: true, line } : { text, line };
  }

  // Long: one character loop whose state (depth, string, escape, line) lives across chunks.
  *push(chunk: string): Generator<ArrayElement> {
    let i = 0;
    if (!this.opened) {
      // The caller hands the text starting with '['.
      i = chunk.indexOf('[') + 1;
      this.opened = true;
    }
    let start = i;
    for (; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c === 10) this.line += 1;
      if (this.closed) {
        if (c !== 32 && c !== 10 && c !== 13 && c !== 9) this.trailing = true;
        continue;
      }
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (c === 92) this.escape = true;
        else if (c === 34) this.inString = false;
        continue;
      }
      if (this.depth === 0 && (c === 93 || c === 44)) {
        const blank = this.elementLine === undefined;
        const element = this.end(chunk, start, i);
        start = i + 1;
        if (c === 93) {
          this.closed = true;
          if (element && (!blank || this.commas > 0)) yield element;
        } else {
          this.commas += 1;
          if (element) yield element;
        }
        continue;
      }
      if (this.elementLine === undefined && c !== 32 && c !== 10 && c !== 13 && c !== 9)
        this.elementLine = this.line;
      if (c === 34) this.inString = true;
      else if (c === 123 || c === 91) this.depth += 1;
      else if (c === 125 || c === 93) this.depth = Math.max(0, this.depth - 1);
    }
    if (this.closed || this.skipping || start >= chunk.length) return;
    this.pieces.push(chunk.slice(start));
    this.chars += chunk.length - start;
    if (this.chars > this.maxChars) {
      // Refused now, not at its end: the rest of it is only scanned.
      const line = this.elementLine ?? this.line;
      this.pieces = [];
      this.chars = 0;
      this.skipping = true;
      yield { tooLarge: true, line };
    }
  }

  /** The file-level problem once the input ended, if any. */
  finish(): string | null {
    if (!this.closed) return 'invalid JSON array: it is not closed with "]"';
    if (this.trailing) return 'invalid JSON array: text after the closing "]"';
    return null;
  }
}
