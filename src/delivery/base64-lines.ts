import type { SlottedText } from '../render/rendered-message.ts';

/** Base64 body lines are 76 characters (RFC 2045): 57 bytes of content each. */
const LINE = 76;
const CRLF = Buffer.from('\r\n', 'latin1');
const EMPTY = Buffer.alloc(0);

/**
 * The literal parts of one rendered text, as UTF-8 bytes, with their base64 lines cached per position.
 * A literal's encoding depends only on where it starts: its byte offset modulo 3 (which bytes join the
 * previous group) and its column in the line (19 possible, since 76 characters are 19 groups). So each
 * (alignment, column) variant is encoded once and reused for every reader whose personal values put the
 * literal at that position: 57 variants at most per literal, built on first use.
 */
interface EncodedLiterals {
  bytes: Buffer[];
  variants: Array<Array<Buffer | undefined>>;
}

const encodedTemplates = new WeakMap<SlottedText, EncodedLiterals>();

function encodedLiterals(text: SlottedText): EncodedLiterals {
  let known = encodedTemplates.get(text);
  if (!known) {
    known = { bytes: text.literals.map((literal) => Buffer.from(literal, 'utf8')), variants: [] };
    encodedTemplates.set(text, known);
  }
  return known;
}

/**
 * Writes base64 of a byte stream given in pieces, exactly as encoding the whole stream at once and
 * cutting it into 76-character lines joined by CRLF (no CRLF after the last line). Bytes that do not
 * fill a 3-byte group wait in `pending` for the next piece.
 */
class Base64LineWriter {
  readonly out: Buffer[] = [];
  /** Base64 characters written so far (CRLFs not counted). */
  private chars = 0;
  private pending: Buffer = EMPTY;

  /** Any bytes: encoded now, except up to 2 that wait for the next piece. */
  write(bytes: Buffer): void {
    if (bytes.length === 0) return;
    const joined = this.pending.length > 0 ? Buffer.concat([this.pending, bytes]) : bytes;
    const whole = joined.length - (joined.length % 3);
    if (whole > 0) this.emit(joined.toString('base64', 0, whole));
    this.pending = joined.subarray(whole);
  }

  /** A literal of a template: the aligned middle comes from the cache of its encoded variants. */
  writeLiteral(literals: EncodedLiterals, index: number): void {
    const bytes = literals.bytes[index] ?? EMPTY;
    const head = (3 - this.pending.length) % 3;
    if (bytes.length < head + 3) {
      this.write(bytes);
      return;
    }
    this.write(bytes.subarray(0, head));
    const tail = (bytes.length - head) % 3;
    const column = this.chars % LINE;
    if (this.chars > 0 && column === 0) this.out.push(CRLF);
    let perLiteral = literals.variants[index];
    if (!perLiteral) {
      perLiteral = [];
      literals.variants[index] = perLiteral;
    }
    const key = head * (LINE / 4) + column / 4;
    let encoded = perLiteral[key];
    if (!encoded) {
      encoded = Buffer.from(wrap(bytes.toString('base64', head, bytes.length - tail), column), 'latin1');
      perLiteral[key] = encoded;
    }
    this.out.push(encoded);
    this.chars += ((bytes.length - head - tail) / 3) * 4;
    this.pending = bytes.subarray(bytes.length - tail);
  }

  /** Encodes what waits, with its padding. */
  end(): Buffer[] {
    if (this.pending.length > 0) this.emit(this.pending.toString('base64'));
    this.pending = EMPTY;
    return this.out;
  }

  private emit(encoded: string): void {
    const column = this.chars % LINE;
    if (this.chars > 0 && column === 0) this.out.push(CRLF);
    this.out.push(Buffer.from(wrap(encoded, column), 'latin1'));
    this.chars += encoded.length;
  }
}

/** Inserts CRLF wherever a line reaches 76 characters, for text starting at `column` of its line. */
function wrap(encoded: string, column: number): string {
  const first = LINE - column;
  if (encoded.length <= first) return encoded;
  const lines = [encoded.slice(0, first)];
  for (let i = first; i < encoded.length; i += LINE) lines.push(encoded.slice(i, i + LINE));
  return lines.join('\r\n');
}

/**
 * A whole text as base64 lines (76 characters, CRLF between lines). The reference every other path
 * must equal.
 */
export function base64Lines(content: string): Buffer[] {
  const writer = new Base64LineWriter();
  writer.write(Buffer.from(content, 'utf8'));
  return writer.end();
}

/**
 * The same bytes as `base64Lines(fill(text, values))`, but the template's literals are encoded once per
 * position and reused: per reader only the personal values are encoded. `values[slot]` is the text of
 * a slot; a missing value is empty.
 */
export function base64SlottedLines(text: SlottedText, values: readonly string[]): Buffer[] {
  const literals = encodedLiterals(text);
  const writer = new Base64LineWriter();
  writer.writeLiteral(literals, 0);
  for (let i = 0; i < text.slots.length; i++) {
    const value = values[text.slots[i] as number];
    if (value) writer.write(Buffer.from(value, 'utf8'));
    writer.writeLiteral(literals, i + 1);
  }
  return writer.end();
}
