import type { Edition } from '../issues/issue-content.ts';

/** A week without a story: the week range alone says too little in an inbox. */
const EMPTY_WEEK_PREFIX = 'The week in AI: ';
const SUBJECT_MAX = 70;
/** A lead headline is kept whole up to this subject length (clients cut long subjects themselves). */
const SUBJECT_HARD_MAX = 100;
const PREHEADER_MAX = 110;
const SEPARATOR = ' · ';
const MIN_SHARE = 24;

/**
 * A headline fit for a subject line: one line, no control characters, no emoji (the subject carries
 * none), no all-caps shouting.
 */
export function cleanHeadline(title: string): string {
  const flat = title
    // biome-ignore lint/suspicious/noControlCharactersInRegex: headers must never carry control characters
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ')
    .replace(/[\p{Extended_Pictographic}\u{1F1E6}-\u{1F1FF}\uFE0F\u200D]/gu, '')
    .replace(/\s+/g, ' ')
    .trim();
  const letters = flat.replace(/[^\p{L}]/gu, '');
  if (letters.length >= 4 && letters === letters.toUpperCase() && letters !== letters.toLowerCase()) {
    const lower = flat.toLowerCase();
    return lower.charAt(0).toUpperCase() + lower.slice(1);
  }
  return flat;
}

const length = (text: string): number => [...text].length;

/** Cuts at a word boundary to at most `max` characters, ending with "…" when something was cut. */
export function shorten(text: string, max: number): string {
  if (length(text) <= max) return text;
  const chars = [...text].slice(0, Math.max(1, max - 1));
  let cut = chars.join('');
  const space = cut.lastIndexOf(' ');
  if (space > cut.length * 0.6) cut = cut.slice(0, space);
  return `${cut.replace(/[\s,;:.\-–—·]+$/u, '')}…`;
}

/** Cleaned headlines without repeats (case-insensitive), in the order given. */
export function distinctHeadlines(titles: ReadonlyArray<string | null | undefined>): string[] {
  const seen = new Set<string>();
  const headlines: string[] = [];
  for (const title of titles) {
    const headline = cleanHeadline(title ?? '');
    if (headline && !seen.has(headline.toLowerCase())) {
      seen.add(headline.toLowerCase());
      headlines.push(headline);
    }
  }
  return headlines;
}

/** The edition's headlines in reading order (hero, then each section's stories), cleaned, without repeats. */
export function topHeadlines(edition: Edition): string[] {
  return distinctHeadlines([
    edition.hero?.story.title,
    ...edition.sections.flatMap((section) => section.stories.map((item) => item.story.title)),
  ]);
}

/**
 * The lead headline, whole, + " and N more" (N = the other stories of the email). The sender's name is
 * not repeated: the inbox shows it beside the subject, and a phone shows about 32 characters of it.
 * Never cuts a second headline: there is none. The count is dropped when it would push the subject past
 * 70 characters; a lead headline longer than the subject allows is kept whole up to SUBJECT_HARD_MAX,
 * and only beyond that cut at a word. Deterministic: the same edition always yields the same subject.
 * `fallback` (e.g. the week range) is used when there is no story.
 */
export function subjectLine(headlines: readonly string[], storyCount: number, fallback: string): string {
  const lead = headlines[0];
  if (!lead) return `${EMPTY_WEEK_PREFIX}${cleanHeadline(fallback)}`;
  const more = storyCount - 1;
  const withCount = `${lead} and ${more} more`;
  if (more > 0 && length(withCount) <= SUBJECT_MAX) return withCount;
  if (length(lead) <= SUBJECT_HARD_MAX) return lead;
  return shorten(lead, SUBJECT_MAX);
}

/**
 * Hidden preview text that complements the subject: the size ("7 stories · 3 min read"), then
 * the headlines the subject does not name, as many as fit 110 characters (only the last one shown may
 * be cut). `summary` is the masthead's count line; `fallback` follows it when there is no other story.
 */
export function preheaderText(headlines: readonly string[], summary: string, fallback: string): string {
  const rest = headlines.slice(1);
  if (rest.length === 0) return shorten(`${summary}. ${cleanHeadline(fallback)}`, PREHEADER_MAX);
  let text = `${summary}. Also: `;
  let added = 0;
  for (const headline of rest) {
    const joiner = added === 0 ? '' : SEPARATOR;
    const room = PREHEADER_MAX - length(text) - joiner.length;
    if (length(headline) <= room) {
      text += joiner + headline;
      added++;
      continue;
    }
    if (room >= MIN_SHARE || added === 0) text += joiner + shorten(headline, Math.max(room, 1));
    break;
  }
  return text;
}
