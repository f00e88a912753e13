import type { SlottedText } from '../render/rendered-message.ts';

/** Base64 body lines are 76 characters (RFC 2045): 57 bytes of content each. */
const LINE = 76;
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
  totalBytes: number;
  variants: Array<Array<Buffer | undefined>>;
}

const encodedTemplates = new WeakMap<SlottedText, EncodedLiterals>();

function encodedLiterals(text: SlottedText): EncodedLiterals {
  let known = encodedTemplates.get(text);
  if (!known) {
    const bytes = text.literals.map((literal) => Buffer.from(literal, 'utf8'));
    known = { bytes, totalBytes: bytes.reduce((sum, piece) => sum + piece.length, 0), variants: [] };
    encodedTemplates.set(text, known);
  }
  return known;
}

const ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');
const EQUALS = 61;

/**
 * Writes base64 of a byte stream given in pieces into one buffer, exactly as encoding the whole stream
 * at once and cutting it into 76-character lines joined by CRLF (no CRLF after the last line). Bytes
 * that do not fill a 3-byte group wait for the next piece. Personal values are UTF-8- and
 * base64-encoded here in plain JavaScript: they are short, and a native call per value would cost more
 * than the encoding itself.
 */
class Base64LineWriter {
  private readonly out: Buffer;
  private pos: number;
  /** Base64 characters written so far (CRLFs not counted). */
  private chars = 0;
  private pending = 0;
  private first = 0;
  private second = 0;

  /** Writes into `out` from `pos`, which must have room for `base64Capacity` of the content. */
  constructor(out: Buffer, pos: number) {
    this.out = out;
    this.pos = pos;
  }

  /** A string's UTF-8 bytes (a lone surrogate becomes U+FFFD, as Buffer.from does). */
  writeString(value: string): void {
    let i = 0;
    while (this.pending !== 0 && i < value.length && value.charCodeAt(i) < 0x80)
      this.byte(value.charCodeAt(i++));
    // Plain ASCII, three characters to a group: what URLs and tokens are made of.
    if (this.pending === 0) {
      const out = this.out;
      const last = value.length - 2;
      let pos = this.pos;
      let column = this.chars % LINE;
      let chars = this.chars;
      while (i < last) {
        const a = value.charCodeAt(i);
        const b = value.charCodeAt(i + 1);
        const c = value.charCodeAt(i + 2);
        if ((a | b | c) >= 0x80) break;
        if (column === LINE) {
          out[pos++] = 13;
          out[pos++] = 10;
          column = 0;
        } else if (column === 0 && chars > 0) {
          out[pos++] = 13;
          out[pos++] = 10;
        }
        out[pos] = ALPHABET[a >> 2] as number;
        out[pos + 1] = ALPHABET[((a & 3) << 4) | (b >> 4)] as number;
        out[pos + 2] = ALPHABET[((b & 15) << 2) | (c >> 6)] as number;
        out[pos + 3] = ALPHABET[c & 63] as number;
        pos += 4;
        column += 4;
        chars += 4;
        i += 3;
      }
      this.pos = pos;
      this.chars = chars;
    }
    for (; i < value.length; i++) {
      const code = value.charCodeAt(i);
      if (code < 0x80) this.byte(code);
      else if (code < 0x800) {
        this.byte(0xc0 | (code >> 6));
        this.byte(0x80 | (code & 63));
      } else if (code >= 0xd800 && code < 0xe000) {
        const next = code < 0xdc00 ? value.charCodeAt(i + 1) : Number.NaN;
        if (next >= 0xdc00 && next < 0xe000) {
          const point = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
          this.byte(0xf0 | (point >> 18));
          this.byte(0x80 | ((point >> 12) & 63));
          this.byte(0x80 | ((point >> 6) & 63));
          this.byte(0x80 | (point & 63));
          i++;
        } else {
          this.byte(0xef);
          this.byte(0xbf);
          this.byte(0xbd);
        }
      } else {
        this.byte(0xe0 | (code >> 12));
        this.byte(0x80 | ((code >> 6) & 63));
        this.byte(0x80 | (code & 63));
      }
    }
  }

  /** A literal of a template: its aligned middle comes from the cache of its encoded variants. */
  writeLiteral(literals: EncodedLiterals, index: number): void {
    const bytes = literals.bytes[index] ?? EMPTY;
    const head = (3 - this.pending) % 3;
    if (bytes.length < head + 3) {
      for (let i = 0; i < bytes.length; i++) this.byte(bytes[i] as number);
      return;
    }
    for (let i = 0; i < head; i++) this.byte(bytes[i] as number);
    const tail = (bytes.length - head) % 3;
    const column = this.chars % LINE;
    if (this.chars > 0 && column === 0) this.crlf();
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
    this.out.set(encoded, this.pos);
    this.pos += encoded.length;
    this.chars += ((bytes.length - head - tail) / 3) * 4;
    for (let i = bytes.length - tail; i < bytes.length; i++) this.byte(bytes[i] as number);
  }

  /** Encodes what waits, with its padding, and returns the position after the last byte written. */
  end(): number {
    if (this.pending === 1) this.group(this.first, 0, 0, 2);
    else if (this.pending === 2) this.group(this.first, this.second, 0, 1);
    this.pending = 0;
    return this.pos;
  }

  private byte(value: number): void {
    if (this.pending === 0) {
      this.first = value;
      this.pending = 1;
    } else if (this.pending === 1) {
      this.second = value;
      this.pending = 2;
    } else {
      this.group(this.first, this.second, value, 0);
      this.pending = 0;
    }
  }

  private group(a: number, b: number, c: number, padding: number): void {
    if (this.chars > 0 && this.chars % LINE === 0) this.crlf();
    const out = this.out;
    out[this.pos] = ALPHABET[a >> 2] as number;
    out[this.pos + 1] = ALPHABET[((a & 3) << 4) | (b >> 4)] as number;
    out[this.pos + 2] = padding === 2 ? EQUALS : (ALPHABET[((b & 15) << 2) | (c >> 6)] as number);
    out[this.pos + 3] = padding > 0 ? EQUALS : (ALPHABET[c & 63] as number);
    this.pos += 4;
    this.chars += 4;
  }

  private crlf(): void {
    this.out[this.pos] = 13;
    this.out[this.pos + 1] = 10;
    this.pos += 2;
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
 * The most bytes `writeBase64Slotted` may write for these values (exact size is known only after). The
 * same for every `sequence` (a permutation of the same segments).
 */
export function base64SlottedCapacity(text: SlottedText, values: readonly string[]): number {
  let maxBytes = encodedLiterals(text).totalBytes;
  for (const slot of text.slots) maxBytes += 3 * (values[slot]?.length ?? 0);
  const chars = Math.ceil(maxBytes / 3) * 4;
  return chars + 2 * Math.floor(chars / LINE);
}

/**
 * Writes into `out` at `pos` the same bytes as `base64Lines(fillSlotted({ text, values, sequence }))`,
 * and returns the position after them. The template's literals are encoded once per position and
 * reused: per reader only the personal values are encoded, and a reader's own `sequence` of the
 * segments (see SlottedFill) only changes which cached variant of a literal is written. `values[slot]`
 * is the text of a slot (missing: empty); literals and values must be whole strings (no surrogate pair
 * cut between two of them). `out` must have `base64SlottedCapacity` bytes of room from `pos`.
 */
export function writeBase64Slotted(
  out: Buffer,
  pos: number,
  text: SlottedText,
  values: readonly string[],
  sequence?: Uint32Array,
): number {
  const literals = encodedLiterals(text);
  const writer = new Base64LineWriter(out, pos);
  const slots = text.slots;
  writer.writeLiteral(literals, 0);
  const count = sequence ? sequence.length : slots.length;
  for (let k = 0; k < count; k++) {
    const i = sequence ? (sequence[k] as number) : k;
    const value = values[slots[i] as number];
    if (value) writer.writeString(value);
    writer.writeLiteral(literals, i + 1);
  }
  return writer.end();
}

/** `writeBase64Slotted` into a buffer of its own. */
export function base64SlottedLines(
  text: SlottedText,
  values: readonly string[],
  sequence?: Uint32Array,
): Buffer {
  const out = Buffer.allocUnsafe(base64SlottedCapacity(text, values));
  return out.subarray(0, writeBase64Slotted(out, 0, text, values, sequence));
}

/**
 * A whole text as base64 lines (76 characters, CRLF between lines, none after the last): the encoding
 * of every message part, which `writeBase64Slotted` equals byte for byte.
 */
export function base64Lines(content: string): string {
  return wrap(Buffer.from(content, 'utf8').toString('base64'), 0);
}
