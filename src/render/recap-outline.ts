import type { Edition, IssueStory } from '../issues/issue-content.ts';
import type { Segment } from '../stories/segment.ts';
import type { Story } from '../stories/story.ts';
import { regionFlag } from './region-flag.ts';
import { safeHttpUrl } from './safe-url.ts';
import { preheaderText, subjectLine } from './subject-line.ts';
import { formatDay, formatWeekRange } from './week-range.ts';

/** One story as the card shows it: every part already decided, missing parts are null or empty. */
export interface CardOutline {
  storyId: string;
  title: string;
  /** The original article, only when it is an http(s) URL. */
  url: string | null;
  /** Kicker items in order: flag + region, source, date, read time. */
  kicker: string[];
  tldr: Array<{ label: string; text: string }>;
  whoShouldCare: string | null;
  takeaways: string[];
  alsoCoveredBy: string | null;
  cta: string;
}

export interface WatchItem {
  prediction: string;
  rationale: string | null;
}

export interface DevelopingItem {
  title: string;
  url: string | null;
  date: string;
  event: string;
}

/** Everything the recap says, in reading order, shared by the HTML view and the plain-text part. */
export interface RecapOutline {
  subject: string;
  preheader: string;
  weekRange: string;
  summary: string;
  hero: CardOutline | null;
  sections: Array<{ title: string; cards: CardOutline[] }>;
  watch: WatchItem[];
  developing: DevelopingItem[];
  /** "Founders & Product Leaders and Investors": why the reader gets this edition. */
  followed: string;
  /** Every http(s) URL the content links to, in order of appearance. */
  urls: string[];
}

const WORDS_PER_MINUTE = 200;
const MAX_TAKEAWAYS = 3;
const MAX_WATCH = 4;

const clean = (value: string | null | undefined): string | null => {
  const text = value?.replace(/\s+/g, ' ').trim();
  return text ? text : null;
};

const wordCount = (texts: Array<string | null>): number =>
  texts.reduce((sum, text) => sum + (text ? text.split(' ').length : 0), 0);

/** "Founders & Product Leaders" -> "For founders & product leaders" (acronyms such as AI stay). */
export function sectionTitle(segment: Segment): string {
  const name = clean(segment.name) ?? segment.slug;
  const words = name
    .split(' ')
    .map((word) => (word.length > 1 && word === word.toUpperCase() ? word : word.toLowerCase()));
  return `For ${words.join(' ')}`;
}

/** "A, B and C". */
export function listOf(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function cardOutline(item: IssueStory, timeZone: string, withTakeaways: boolean): CardOutline {
  const story = item.story;
  const title = clean(story.title) ?? 'Untitled story';
  const source = clean(story.source?.name);
  const region = clean(story.region);
  const flag = regionFlag(region);
  const when = story.publishedAt ?? story.collectedAt;
  const tldr = [
    { label: 'What changed', text: clean(story.tldr?.whatChanged) },
    { label: 'Why it matters', text: clean(story.tldr?.whyItMatters) },
    { label: 'What to do next', text: clean(story.tldr?.whatToDoNext) },
  ].filter((line): line is { label: string; text: string } => line.text !== null);
  const takeaways = withTakeaways
    ? [
        ...new Set((story.keyTakeaways ?? []).map(clean).filter((text): text is string => text !== null)),
      ].slice(0, MAX_TAKEAWAYS)
    : [];
  const audiences = (story.audiences ?? []).map(clean).filter((text): text is string => text !== null);
  const others = (item.alsoCoveredBy ?? [])
    .map(clean)
    .filter((name): name is string => name !== null && name !== source);
  const minutes = Math.max(
    1,
    Math.ceil(wordCount([title, ...tldr.map((line) => line.text), ...takeaways]) / WORDS_PER_MINUTE),
  );
  const kicker = [
    region ? (flag ? `${flag} ${region}` : region) : null,
    source,
    when && !Number.isNaN(when.getTime()) ? formatDay(when, timeZone) : null,
    `${minutes} min read`,
  ].filter((part): part is string => part !== null);
  return {
    storyId: story.id,
    title,
    url: safeHttpUrl(story.url),
    kicker,
    tldr,
    whoShouldCare: audiences.length > 0 ? listOf(audiences) : null,
    takeaways,
    alsoCoveredBy: others.length > 0 ? listOf([...new Set(others)]) : null,
    cta: source ? `Read original on ${source}` : 'Read the original',
  };
}

function watchItems(stories: Story[]): WatchItem[] {
  const items: WatchItem[] = [];
  const seen = new Set<string>();
  // First the lead implication of each story, then the rest, so the list spans several stories.
  const rounds = Math.max(0, ...stories.map((story) => story.implications?.length ?? 0));
  for (let round = 0; round < rounds && items.length < MAX_WATCH; round++) {
    for (const story of stories) {
      const implication = story.implications?.[round];
      const prediction = clean(implication?.prediction);
      if (!prediction || seen.has(prediction) || items.length >= MAX_WATCH) continue;
      seen.add(prediction);
      items.push({ prediction, rationale: clean(implication?.rationale) });
    }
  }
  return items;
}

function timelineDate(value: string, timeZone: string): string {
  if (/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return formatDay(date, timeZone);
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return formatDay(new Date(`${value}T12:00:00Z`), 'UTC');
  return value;
}

/**
 * Decides what the recap of one edition says, in reading order. Pure and deterministic: the HTML view
 * and the plain-text part both read it, so they always carry the same words.
 */
export function recapOutline(edition: Edition): RecapOutline {
  const weekRange = formatWeekRange(edition.weekStart, edition.weekEnd, edition.timeZone);
  const hero = edition.hero ? cardOutline(edition.hero, edition.timeZone, true) : null;
  const sections = edition.sections
    .map((section) => ({
      title: sectionTitle(section.segment),
      cards: section.stories.map((item, index) => cardOutline(item, edition.timeZone, index === 0)),
    }))
    .filter((section) => section.cards.length > 0);
  const stories = [edition.hero, ...edition.sections.flatMap((section) => section.stories)]
    .filter((item): item is IssueStory => item !== null)
    .map((item) => item.story);
  const developing = edition.developing
    .map((item) => {
      const event = clean(item.event?.event);
      return event
        ? {
            title: clean(item.story.title) ?? 'Untitled story',
            url: safeHttpUrl(item.story.url),
            date: timelineDate(clean(item.event.date) ?? '', edition.timeZone),
            event,
          }
        : null;
    })
    .filter((item): item is DevelopingItem => item !== null);
  const cards = [hero, ...sections.flatMap((section) => section.cards)].filter(
    (card): card is CardOutline => card !== null,
  );
  const watch = watchItems(stories);
  const words =
    wordCount(
      cards.flatMap((card) => [card.title, ...card.tldr.map((line) => line.text), ...card.takeaways]),
    ) +
    wordCount(watch.flatMap((item) => [item.prediction, item.rationale])) +
    wordCount(developing.map((item) => `${item.title} ${item.event}`));
  const minutes = Math.max(1, Math.round(words / WORDS_PER_MINUTE));
  const urls = [...cards.map((card) => card.url), ...developing.map((item) => item.url)].filter(
    (url): url is string => url !== null,
  );
  const followed = edition.segments.map((segment) => clean(segment.name) ?? segment.slug);
  return {
    subject: subjectLine(edition, weekRange),
    preheader: preheaderText(edition, `Your AI news for ${weekRange}`),
    weekRange,
    summary: `${cards.length} ${cards.length === 1 ? 'story' : 'stories'} · ${minutes} min read`,
    hero,
    sections,
    watch,
    developing,
    followed: listOf(followed),
    urls: [...new Set(urls)],
  };
}
