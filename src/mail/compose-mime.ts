import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import DKIM from 'nodemailer/lib/dkim';
import dkimSign from 'nodemailer/lib/dkim/sign';
import { base64Lines, base64SlottedCapacity, writeBase64Slotted } from './base64-lines.ts';
import type { OutgoingMessage } from './mailer.ts';

/** The key a composer signs with (RFC 6376, relaxed/relaxed, rsa-sha256). */
export interface DkimKey {
  domain: string;
  selector: string;
  privateKey: string;
}

/**
 * The one place where a message becomes bytes. Every mailer (SMTP and outbox) writes exactly what
 * `compose` returns, so the outbox is a faithful record of the wire: same CRLF line ends, same base64
 * parts, same DKIM-Signature when a key is configured.
 */
export interface MessageComposer {
  /**
   * The final bytes of one message, signed when a key is configured. Throws on header injection.
   * `scratch`, when given and large enough, holds the bytes (the result is then a view of it), so a
   * sender that reuses its buffers allocates no new memory per message.
   */
  compose(message: OutgoingMessage, scratch?: Buffer): Promise<Buffer>;
}

/**
 * Builds the composer every mailer shares. `now` supplies the Date header (a clock, so tests can
 * compare two deliveries byte for byte).
 */
export function createMessageComposer(
  options: { dkim?: DkimKey | undefined; now?: () => Date } = {},
): MessageComposer {
  const now = options.now ?? (() => new Date());
  const signer = options.dkim
    ? new DKIM({
        domainName: options.dkim.domain,
        keySelector: options.dkim.selector,
        privateKey: options.dkim.privateKey,
      })
    : null;
  const key = options.dkim
    ? {
        domainName: options.dkim.domain,
        keySelector: options.dkim.selector,
        // Parsed once: signing with the PEM text would parse it again for every message.
        privateKey: createPrivateKey(options.dkim.privateKey),
      }
    : null;
  return {
    async compose(message, scratch) {
      const raw = composeMime(message, now(), scratch);
      if (!signer || !key) return raw;
      return signComposed(key, raw) ?? signMessage(signer, raw);
    },
  };
}

const CRLF_CRLF = Buffer.from('\r\n\r\n', 'latin1');

/**
 * The same DKIM-Signature nodemailer's streaming signer prepends (its own `sign` over the same parsed
 * headers, relaxed/relaxed, rsa-sha256), without its byte-by-byte pass over the body: the body this
 * composer writes is already in relaxed canonical form (CRLF lines, no tab, no run of spaces, no
 * trailing space, no empty line at the end), so its body hash is a native SHA-256 of the bytes. Null
 * when the body is not in that form, and the caller signs it the slow way.
 */
function signComposed(
  key: { domainName: string; keySelector: string; privateKey: KeyObject },
  raw: Buffer,
): Buffer | null {
  const split = raw.indexOf(CRLF_CRLF);
  if (split < 0) return null;
  const body = raw.subarray(split + 4);
  const canonical =
    body.length >= 2 &&
    body[body.length - 2] === 13 &&
    body[body.length - 1] === 10 &&
    !(body.length >= 4 && body[body.length - 4] === 13 && body[body.length - 3] === 10) &&
    body.indexOf('\t', 0, 'latin1') < 0 &&
    body.indexOf('  ', 0, 'latin1') < 0 &&
    body.indexOf(' \r\n', 0, 'latin1') < 0;
  if (!canonical) return null;
  const bodyHash = createHash('sha256').update(body).digest('base64');
  const field = dkimSign(parseHeaderLines(raw.toString('latin1', 0, split)), 'sha256', bodyHash, key);
  if (!field) return null;
  return Buffer.concat([Buffer.from(`${field}\r\n`), raw]);
}

/** Header lines as nodemailer's DKIM message parser gives them: unfolded, keyed by lower-case name. */
function parseHeaderLines(block: string): Array<{ key: string; line: string }> {
  const lines: string[] = [];
  for (const rawLine of block.split('\r\n')) {
    if (lines.length > 0 && (rawLine.startsWith(' ') || rawLine.startsWith('\t'))) {
      lines[lines.length - 1] += `\n${rawLine}`;
    } else lines.push(rawLine);
  }
  return lines
    .filter((line) => /[^ \t\r]/.test(line))
    .map((line) => {
      const colon = line.indexOf(':');
      const name = colon < 0 ? '' : line.slice(0, colon);
      return { key: name.replace(/^[ \t]+|[ \t]+$/g, '').toLowerCase(), line };
    });
}

/** Prepends the DKIM-Signature header; the rest of the bytes stay exactly as composed. */
function signMessage(signer: DKIM, raw: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const stream = signer.sign(raw);
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('error', reject);
    stream.once('end', () => resolve(Buffer.concat(chunks)));
  });
}

/**
 * Builds the raw RFC 5322 bytes of a multipart/alternative message (text, then HTML, both base64,
 * CRLF line ends), before signing. It exists because composing with nodemailer's MailComposer costs
 * about 0.8 ms of CPU per message, a third of the pooled transport's whole budget; this is a handful
 * of string joins and one native base64 pass per part. Pure: the same message and date always give the
 * same bytes (the boundary derives from the Message-ID). Throws on a header value with a line break
 * (header injection). Mailers call `MessageComposer.compose`, never this directly.
 */
export function composeMime(message: OutgoingMessage, date: Date = new Date(), scratch?: Buffer): Buffer {
  const boundary = boundaryFor(message.messageId);
  const head = [
    sharedHeader('From', message.from),
    header('To', message.to),
    sharedHeader('Subject', message.subject),
    header('Date', rfc2822Date(date)),
    header('Message-ID', message.messageId),
    'MIME-Version: 1.0',
  ];
  for (const name in message.headers) {
    const value = message.headers[name] as string;
    head.push(sharedHeaderNames.has(name) ? sharedHeader(name, value) : header(name, value));
  }
  head.push(`Content-Type: multipart/alternative; boundary="${boundary}"`);
  const textHead =
    `${head.join('\r\n')}\r\n\r\n--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    'Content-Transfer-Encoding: base64\r\n\r\n';
  const htmlHead = `\r\n--${boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  const parts = message.parts;
  if (!parts) {
    return Buffer.from(
      textHead + base64Lines(message.text) + htmlHead + base64Lines(message.html) + tail,
      'latin1',
    );
  }
  // A copy personalised from a template: the shared literals' base64 is reused (see base64-lines.ts),
  // and the whole message is written into one buffer, without a concatenation of pieces.
  const capacity =
    textHead.length +
    base64SlottedCapacity(parts.text.text, parts.text.values) +
    htmlHead.length +
    base64SlottedCapacity(parts.html.text, parts.html.values) +
    tail.length;
  const out = scratch && scratch.length >= capacity ? scratch : Buffer.allocUnsafe(capacity);
  let pos = out.write(textHead, 0, 'latin1');
  pos = writeBase64Slotted(out, pos, parts.text.text, parts.text.values, parts.text.sequence);
  pos += out.write(htmlHead, pos, 'latin1');
  pos = writeBase64Slotted(out, pos, parts.html.text, parts.html.values, parts.html.sequence);
  pos += out.write(tail, pos, 'latin1');
  return out.subarray(0, pos);
}

/** `"Weekly AI Recap" <recap@example.com>`, with the name encoded when it is not plain ASCII. */
export function formatAddress(name: string | null | undefined, address: string): string {
  if (!name) return address;
  // Some clients decode encoded words even inside quotes: a name holding "=?" is encoded whole.
  const display =
    /^[\x20-\x7e]*$/.test(name) && !name.includes('=?')
      ? `"${name.replace(/["\\]/g, '\\$&')}"`
      : encodeWords(name);
  return `${display} <${address}>`;
}

// Base64 never contains "_" or "=" mid-line, so no boundary of this shape can occur inside a part:
// the hash only makes it differ per message. FNV-1a (two 32-bit lanes), as a native hash call would
// cost more than the rest of the head.
function boundaryFor(messageId: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ messageId.length;
  for (let i = 0; i < messageId.length; i++) {
    const code = messageId.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x5bd1e995) ^ (b >>> 15);
  }
  return `=_recap_${(a >>> 0).toString(16).padStart(8, '0')}${(b >>> 0).toString(16).padStart(8, '0')}`;
}

/** Headers every copy of an edition shares: their checked, folded lines are kept, not rebuilt per copy. */
const sharedHeaderNames = new Set(['List-Id', 'List-Unsubscribe-Post', 'Feedback-ID']);
const sharedHeaderLines = new Map<string, string>();
const SHARED_HEADER_LIMIT = 256;

function sharedHeader(name: string, value: string): string {
  const key = `${name}\n${value}`;
  let line = sharedHeaderLines.get(key);
  if (line === undefined) {
    line = header(name, name === 'Subject' ? encodeWords(value) : value);
    if (sharedHeaderLines.size >= SHARED_HEADER_LIMIT) sharedHeaderLines.clear();
    sharedHeaderLines.set(key, line);
  }
  return line;
}

function header(name: string, value: string): string {
  if (/[\r\n]/.test(value) || /[^\x21-\x39\x3b-\x7e]/.test(name)) {
    throw new Error(`refusing header ${JSON.stringify(name)}: line breaks or bad characters`);
  }
  return fold(`${name}: ${value}`);
}

/** Folds a header line at spaces so no line exceeds 78 characters where a space allows it. */
function fold(line: string): string {
  if (line.length <= 78) return line;
  const words = line.split(' ');
  const lines: string[] = [];
  let current = words[0] ?? '';
  for (const word of words.slice(1)) {
    if (current.length + 1 + word.length > 78) {
      lines.push(current);
      current = ` ${word}`;
    } else {
      current += ` ${word}`;
    }
  }
  lines.push(current);
  return lines.join('\r\n');
}

/**
 * RFC 2047 encoded words for non-ASCII text, split so each stays under 76 characters. Plain ASCII that
 * holds "=?" is encoded too: left raw, a story title written as an encoded word (`=?utf-8?B?…?=`)
 * would be decoded by mail clients and show as something other than its literal text.
 */
export function encodeWords(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text) && !text.includes('=?')) return text;
  const words: string[] = [];
  let chunk = '';
  for (const char of text) {
    // 45 bytes of UTF-8 encode to 60 base64 characters: 72 with the =?UTF-8?B?…?= wrapper.
    if (Buffer.byteLength(chunk + char) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += char;
  }
  if (chunk) words.push(chunk);
  return words.map((word) => `=?UTF-8?B?${Buffer.from(word).toString('base64')}?=`).join(' ');
}

const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

let lastDate = { second: Number.NaN, text: '' };

/** The Date header's text, made once per second (a send writes a thousand messages a second). */
function rfc2822Date(date: Date): string {
  const second = Math.floor(date.getTime() / 1000);
  if (second !== lastDate.second) lastDate = { second, text: formatDate(date) };
  return lastDate.text;
}

function formatDate(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${days[date.getUTCDay()]}, ${two(date.getUTCDate())} ${months[date.getUTCMonth()]} ${date.getUTCFullYear()} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`;
}
