import { safeHttpUrl } from '../render/safe-url.ts';

/** What the editor wrote for a week's issue; null: no note / the computed subject or preheader. */
export interface IssueWriting {
  note: string | null;
  subject: string | null;
  preheader: string | null;
}

export const NO_WRITING: IssueWriting = { note: null, subject: null, preheader: null };

export const NOTE_MAX = 2000;
export const SUBJECT_OVERRIDE_MAX = 200;
export const PREHEADER_OVERRIDE_MAX = 300;

/** One run of a note's paragraph: text, or a link (a bare http(s) URL, or `[text](url)`). */
export type NotePart = { kind: 'text'; text: string } | { kind: 'link'; text: string; url: string };

/** A checked value, or why it was refused (one sentence for the CLI and the editor). */
export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * An editor's note as stored: lines kept, control characters (but line breaks) and trailing blanks
 * removed, at most NOTE_MAX characters. Empty text is "no note" (null).
 */
export function checkNote(input: string): Checked<string | null> {
  const text = input
    .replace(/\r\n?/g, '\n')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: a note keeps line breaks and nothing else of the control range
    .replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/g, ' ')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  if (text === '') return { ok: true, value: null };
  if ([...text].length > NOTE_MAX)
    return { ok: false, error: `The note is ${[...text].length} characters; at most ${NOTE_MAX}.` };
  return { ok: true, value: text };
}

/** A subject or preheader as stored: one line, no control characters, trimmed; empty is null (computed). */
export function checkHeaderLine(input: string, what: 'subject' | 'preheader'): Checked<string | null> {
  const max = what === 'subject' ? SUBJECT_OVERRIDE_MAX : PREHEADER_OVERRIDE_MAX;
  const text = input
    // biome-ignore lint/suspicious/noControlCharactersInRegex: a mail header never carries control characters
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (text === '') return { ok: true, value: null };
  if ([...text].length > max)
    return { ok: false, error: `The ${what} is ${[...text].length} characters; at most ${max}.` };
  return { ok: true, value: text };
}

const LINK = /\[([^\]\n]{1,200})\]\((https?:\/\/[^\s()<>]+)\)|(https?:\/\/[^\s<>"]+)/g;

/**
 * A note cut into paragraphs (blank lines) of text and links; lines of a paragraph join with a space.
 * A link is a bare http(s) URL (trailing punctuation left out) or `[text](url)`; anything else, and any
 * URL that is not a safe http(s) URL, stays text. Pure.
 */
export function noteParagraphs(note: string | null | undefined): NotePart[][] {
  if (!note) return [];
  return note
    .split(/\n\s*\n/)
    .map((paragraph) => paragraph.replace(/\s*\n\s*/g, ' ').trim())
    .filter((paragraph) => paragraph !== '')
    .map(paragraphParts);
}

function paragraphParts(paragraph: string): NotePart[] {
  const parts: NotePart[] = [];
  const addText = (text: string) => {
    if (text === '') return;
    const last = parts.at(-1);
    if (last?.kind === 'text') last.text += text;
    else parts.push({ kind: 'text', text });
  };
  let at = 0;
  for (const match of paragraph.matchAll(LINK)) {
    addText(paragraph.slice(at, match.index));
    let raw = match[2] ?? match[3] ?? '';
    let trailing = '';
    if (match[3]) {
      const cut = /[.,;:!?'")\]]+$/.exec(raw);
      if (cut) {
        trailing = cut[0];
        raw = raw.slice(0, -trailing.length);
      }
    }
    const url = safeHttpUrl(raw);
    if (url) parts.push({ kind: 'link', text: match[1] ?? url, url });
    else addText(match[0].slice(0, match[0].length - trailing.length));
    addText(trailing);
    at = (match.index ?? 0) + match[0].length;
  }
  addText(paragraph.slice(at));
  return parts;
}

/** Every link of a note, in order, each once. */
export function noteUrls(note: string | null | undefined): string[] {
  const urls = noteParagraphs(note).flatMap((parts) =>
    parts.flatMap((part) => (part.kind === 'link' ? [part.url] : [])),
  );
  return [...new Set(urls)];
}
