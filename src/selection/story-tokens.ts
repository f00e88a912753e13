import type { Story } from '../stories/story.ts';

// Words that say nothing about which event a story reports.
const stopwords = new Set(
  `a an and are as at be been but by can could did do does for from had has have he her his how i if in into is it its
  just may more most new not of on or our out over says said she so than that the their them then there these they this
  those to up us was we were what when where which while who why will with would yet you your about after all also amid
  any before being between both each few other own same some such through under until very via vs week weeks today
  year years now first one two three its it's`
    .split(/\s+/)
    .filter(Boolean),
);

/** Lower case, accents and punctuation removed, spaces collapsed: two headlines equal after this are one. */
export function normaliseTitle(title: string): string {
  return title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/['’]/g, '')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/**
 * The content words of a text: normalised, hyphenated names joined ("Nimbus-5" -> "nimbus5") so a model
 * name stays one distinctive word, stop words dropped, a plural "s" stripped.
 */
export function contentWords(text: string): string[] {
  const normalised = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/['’]/g, '')
    .replace(/([a-z0-9])[-.]([a-z0-9])/g, '$1$2')
    .replace(/([a-z0-9])[-.]([a-z0-9])/g, '$1$2');
  const words: string[] = [];
  for (const raw of normalised.split(/[^a-z0-9]+/)) {
    if (raw.length < 2 || stopwords.has(raw)) continue;
    words.push(raw.length > 3 && raw.endsWith('s') && !raw.endsWith('ss') ? raw.slice(0, -1) : raw);
  }
  return words;
}

/** The words same-event matching compares: the headline and the TL;DR's "what changed". */
export function storyWords(story: Pick<Story, 'title' | 'tldr'>): string[] {
  return [...new Set(contentWords(`${story.title} ${story.tldr.whatChanged ?? ''}`))];
}

/**
 * The words of a story that look like names: capitalised inside a sentence, or carrying a digit
 * ("Nimbus", "Nimbus-5", "$2B"). Names tell events apart far better than ordinary words do.
 */
export function storyNameWords(story: Pick<Story, 'title' | 'tldr'>): string[] {
  const tokens: string[] = [];
  for (const text of [story.title, story.tldr.whatChanged ?? '']) {
    let sentenceStart = true;
    for (const token of text.split(/\s+/)) {
      if (token === '') continue;
      if ((!sentenceStart && /^\p{Lu}/u.test(token)) || /\d/.test(token)) tokens.push(token);
      sentenceStart = /[.!?:;]$/.test(token);
    }
    tokens.push('.');
  }
  return [...new Set(contentWords(tokens.join(' ')))];
}
