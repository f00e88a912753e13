import type { Edition } from '../issues/issue-content.ts';

const PREFIX = 'Weekly AI Recap: ';
const SUBJECT_MAX = 70;
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

/** The edition's headlines in reading order (hero, then each section), cleaned, without repeats. */
export function topHeadlines(edition: Edition): string[] {
  const titles = [
    edition.hero?.story.title,
    ...edition.sections.map((section) => section.stories[0]?.story.title),
    ...edition.sections.flatMap((section) => section.stories.slice(1).map((item) => item.story.title)),
  ];
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

/**
 * "Weekly AI Recap: " + two or three top headlines, shortened to fit 70 characters. The lead headline is
 * kept whole when the others still get a readable share. Deterministic: the same edition always yields
 * the same subject. `fallback` (e.g. the week range) is used when there is no story.
 */
export function subjectLine(edition: Edition, fallback: string): string {
  const headlines = topHeadlines(edition);
  if (headlines.length === 0) return `${PREFIX}${cleanHeadline(fallback)}`;
  const budget = SUBJECT_MAX - length(PREFIX);
  const third = headlines[2];
  const count =
    third && length(headlines.slice(0, 3).join(SEPARATOR)) <= budget ? 3 : Math.min(2, headlines.length);
  let room = budget - SEPARATOR.length * (count - 1);
  const chosen: string[] = [];
  headlines.slice(0, count).forEach((headline, index) => {
    const left = count - index - 1;
    const fitted = shorten(headline, Math.max(MIN_SHARE, room - MIN_SHARE * left));
    chosen.push(fitted);
    room -= length(fitted);
  });
  return `${PREFIX}${chosen.join(SEPARATOR)}`;
}

/** Hidden preview text: the top three headlines, shortened to fit 110 characters in total. */
export function preheaderText(edition: Edition, fallback: string): string {
  const headlines = topHeadlines(edition).slice(0, 3);
  if (headlines.length === 0) return cleanHeadline(fallback);
  const chosen: string[] = [];
  let room = PREHEADER_MAX - SEPARATOR.length * (headlines.length - 1);
  headlines.forEach((headline, index) => {
    const share = Math.floor(room / (headlines.length - index));
    const fitted = shorten(headline, share);
    chosen.push(fitted);
    room -= length(fitted);
  });
  return chosen.join(SEPARATOR);
}
