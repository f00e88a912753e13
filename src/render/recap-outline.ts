import { parseIsoWeek, weekDateRange } from '../calendar/iso-week.ts';
import type { DevelopingStory, Edition, IssueStory } from '../issues/issue-content.ts';
import { type NotePart, noteParagraphs } from '../issues/issue-writing.ts';
import type { Segment } from '../stories/segment.ts';
import type { Story } from '../stories/story.ts';
import { regionFlag } from './region-flag.ts';
import { safeHttpUrl } from './safe-url.ts';
import { distinctHeadlines, preheaderText, subjectLine } from './subject-line.ts';
import { formatDay, formatWeekRange } from './week-range.ts';

/** One story as the card shows it: every part already decided, missing parts are null or empty. */
export interface CardOutline {
  storyId: string;
  /**
   * Full cards (the hero and each section's first story) carry every part; compact cards carry only
   * the title, the source line, the "What changed" sentence and the read link.
   */
  compact: boolean;
  title: string;
  /** The story's one-line hook, shown under the title of a full card. */
  hook: string | null;
  /** The original article, only when it is an http(s) URL. */
  url: string | null;
  /** Kicker items in order: flag + region, source, date, read time. */
  kicker: string[];
  tldr: Array<{ label: string; text: string }>;
  whoShouldCare: string | null;
  takeaways: string[];
  alsoCoveredBy: string | null;
  /** "Related:" links of a full card: stored stories or explicit links, http(s) only. */
  related: RelatedLink[];
  cta: string;
  /** Set when the story continues one sent in a recent issue: the card reads "Update: <title>". */
  update: UpdateOutline | null;
}

/** What an update card adds: what changed since the earlier send, and the link to the earlier coverage. */
export interface UpdateOutline {
  /** "Update" (the label before the title). */
  label: string;
  /** "What changed since 22 Nov" (null when no dated event is new). */
  heading: string | null;
  /** The new timeline events, oldest first, at most MAX_UPDATE_LINES. */
  changes: Array<{ date: string; event: string }>;
  /** The earlier issue's archive page (http(s) only). */
  earlierUrl: string | null;
  /** "Earlier coverage, 16–22 Nov 2026" */
  earlierLabel: string;
}

export interface RelatedLink {
  title: string;
  url: string;
}

/** A story or developing item the reading budget or the size guard left out of an edition. */
export interface LeftOut {
  storyId: string;
  title: string;
  kind: 'story' | 'developing';
  reason: 'reading time' | 'size';
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
  /** The editor's subject when one was written, else the computed one. */
  subject: string;
  /** The editor's preheader when one was written, else the computed one. */
  preheader: string;
  /** The editor's note, paragraph by paragraph, shown above the first section (empty: none). */
  note: NotePart[][];
  weekRange: string;
  summary: string;
  hero: CardOutline | null;
  /** Each followed segment's stories, in issue order; `slug` names the segment (the web page's anchor). */
  sections: Array<{ title: string; slug: string; cards: CardOutline[] }>;
  watch: WatchItem[];
  developing: DevelopingItem[];
  /** "Founders & Product Leaders and Investors": why the reader gets this edition. */
  followed: string;
  /** Every http(s) URL the content links to, in order of appearance. */
  urls: string[];
  /** The read time the masthead shows (≤ MAX_READ_MINUTES unless pinned stories alone exceed it). */
  minutes: number;
  /** What the reading budget and the size guard left out, in the order they were left out. */
  leftOut: LeftOut[];
  /** Steps taken beyond the reading budget; below the `extraCuts` asked for when nothing was left to take. */
  extraSteps: number;
}

/** Every reader's issue reads in at most this many minutes (masthead figure). */
export const MAX_READ_MINUTES = 3;

const WORDS_PER_MINUTE = 200;
const MAX_TAKEAWAYS = 3;
const MAX_WATCH = 4;
const MIN_WATCH = 2;
const MAX_RELATED = 3;
const MAX_UPDATE_LINES = 3;

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

function cardOutline(item: IssueStory, timeZone: string, full: boolean): CardOutline {
  const story = item.story;
  const title = clean(story.title) ?? 'Untitled story';
  const source = clean(story.source?.name);
  const region = clean(story.region);
  const flag = regionFlag(region);
  const when = story.publishedAt ?? story.collectedAt;
  const allLines = [
    { label: 'What changed', text: clean(story.tldr?.whatChanged) },
    { label: 'Why it matters', text: clean(story.tldr?.whyItMatters) },
    { label: 'What to do next', text: clean(story.tldr?.whatToDoNext) },
  ].filter((line): line is { label: string; text: string } => line.text !== null);
  const tldr = full ? allLines : allLines.filter((line) => line.label === 'What changed');
  const takeaways = full
    ? [
        ...new Set((story.keyTakeaways ?? []).map(clean).filter((text): text is string => text !== null)),
      ].slice(0, MAX_TAKEAWAYS)
    : [];
  const audiences = (story.audiences ?? []).map(clean).filter((text): text is string => text !== null);
  const others = (item.alsoCoveredBy ?? [])
    .map(clean)
    .filter((name): name is string => name !== null && name !== source);
  const hook = full ? clean(story.hook) : null;
  const related = full ? relatedLinks(story) : [];
  const minutes = Math.max(
    1,
    Math.ceil(wordCount([title, ...allLines.map((line) => line.text)]) / WORDS_PER_MINUTE),
  );
  const kicker = [
    region ? (flag ? `${flag} ${region}` : region) : null,
    source,
    when && !Number.isNaN(when.getTime()) ? formatDay(when, timeZone) : null,
    `${minutes} min read`,
  ].filter((part): part is string => part !== null);
  return {
    storyId: story.id,
    compact: !full,
    title,
    hook,
    url: safeHttpUrl(story.url),
    kicker,
    tldr,
    whoShouldCare: full && audiences.length > 0 ? listOf(audiences) : null,
    takeaways,
    alsoCoveredBy: full && others.length > 0 ? listOf([...new Set(others)]) : null,
    related,
    cta: source ? `Read original on ${source}` : 'Read the original',
    update: updateOutline(item, timeZone),
  };
}

function updateOutline(item: IssueStory, timeZone: string): UpdateOutline | null {
  const update = item.update;
  if (!update) return null;
  const changes = (update.newEvents ?? [])
    .map((event) => ({ date: timelineDate(clean(event.date) ?? '', timeZone), event: clean(event.event) }))
    .filter((line): line is { date: string; event: string } => line.event !== null)
    .slice(0, MAX_UPDATE_LINES);
  const since =
    update.since && /^\d{4}-\d{2}-\d{2}$/.test(update.since) ? timelineDate(update.since, 'UTC') : null;
  const isoWeek = parseIsoWeek(update.week);
  return {
    label: 'Update',
    heading: changes.length > 0 ? (since ? `What changed since ${since}` : 'What changed since') : null,
    changes,
    earlierUrl: safeHttpUrl(update.url),
    earlierLabel: `Earlier coverage, ${isoWeek ? weekDateRange(isoWeek) : update.week}`,
  };
}

/** Related entries that carry an http(s) link (id-only entries were resolved when the issue was loaded, or have none). */
function relatedLinks(story: IssueStory['story']): RelatedLink[] {
  const links: RelatedLink[] = [];
  const seen = new Set<string>([safeHttpUrl(story.url) ?? '']);
  for (const entry of story.related ?? []) {
    const url = safeHttpUrl(entry.url ?? '');
    if (!url || seen.has(url)) continue;
    seen.add(url);
    links.push({ title: clean(entry.title) ?? new URL(url).hostname.replace(/^www\./, ''), url });
    if (links.length >= MAX_RELATED) break;
  }
  return links;
}

/** Words a reader reads on a card: what the read time counts. */
function cardWords(card: CardOutline): number {
  return wordCount([
    card.title,
    card.hook,
    ...card.tldr.map((line) => line.text),
    ...card.takeaways,
    ...card.related.map((link) => link.title),
    ...(card.update?.changes ?? []).map((line) => line.event),
  ]);
}

/** Pinned by the editor: never left out by the reading budget or the size guard. */
export function isPinned(item: IssueStory): boolean {
  return item.reasons.some((reason) => reason.startsWith('pinned by editor'));
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

interface Placed {
  item: IssueStory;
  full: boolean;
  pinned: boolean;
}

function developingItem(item: DevelopingStory, timeZone: string): DevelopingItem | null {
  const event = clean(item.event?.event);
  if (!event) return null;
  return {
    title: clean(item.story.title) ?? 'Untitled story',
    url: safeHttpUrl(item.story.url),
    date: timelineDate(clean(item.event.date) ?? '', timeZone),
    event,
  };
}

const minutesOf = (words: number): number => Math.max(1, Math.round(words / WORDS_PER_MINUTE));

/**
 * Decides what the recap of one edition says, in reading order. Pure and deterministic: the HTML view
 * and the plain-text part both read it, so they always carry the same words.
 *
 * Reading budget: the hero and each section's first story get the full card, the others a compact
 * one. While the read time is above MAX_READ_MINUTES, one step at a time: the last developing item is
 * left out; else the lowest-scored compact story; else the lowest-scored full section card becomes
 * compact; else "What to watch" loses its last item (down to two). Pinned stories and the hero are
 * never left out. `extraCuts` takes that many further steps of the same rule: the size guard's lever.
 */
// Long: one reading-budget pass: which stories keep a full card, which go compact, which are left out, decided together.
export function recapOutline(
  edition: Edition,
  options: { extraCuts?: number; readingBudget?: boolean } = {},
): RecapOutline {
  const extraCuts = options.extraCuts ?? 0;
  // The public web page of an issue shows every story its editions carried: no minutes to keep to.
  const budgeted = options.readingBudget ?? true;
  const tz = edition.timeZone;
  const weekRange = formatWeekRange(edition.weekStart, edition.weekEnd, tz);
  const hero: Placed | null = edition.hero ? { item: edition.hero, full: true, pinned: true } : null;
  const sections = edition.sections.map((section) => ({
    segment: section.segment,
    placed: section.stories.map(
      (item, index): Placed => ({ item, full: index === 0, pinned: isPinned(item) }),
    ),
  }));
  const developing = edition.developing
    .map((item) => ({ source: item, line: developingItem(item, tz) }))
    .filter((entry): entry is { source: DevelopingStory; line: DevelopingItem } => entry.line !== null);
  let watchLimit = MAX_WATCH;
  const leftOut: LeftOut[] = [];
  const cardCache = new Map<string, CardOutline>();
  const cardOf = (placed: Placed) => {
    const key = `${placed.full ? 'f' : 'c'}${placed.item.story.id}`;
    let card = cardCache.get(key);
    if (!card) {
      card = cardOutline(placed.item, tz, placed.full);
      cardCache.set(key, card);
    }
    return card;
  };

  const measure = () => {
    const cards = [hero, ...sections.flatMap((section) => section.placed)]
      .filter((placed): placed is Placed => placed !== null)
      .map(cardOf);
    const watch = watchItems(
      [hero, ...sections.flatMap((section) => section.placed)]
        .filter((placed): placed is Placed => placed !== null)
        .map((placed) => placed.item.story),
    ).slice(0, watchLimit);
    const words =
      cards.reduce((sum, card) => sum + cardWords(card), 0) +
      wordCount(watch.flatMap((item) => [item.prediction, item.rationale])) +
      wordCount(developing.map((entry) => `${entry.line.title} ${entry.line.event}`));
    return { cards, watch, minutes: minutesOf(words) };
  };

  /** One step of the leave-out rule; false when nothing is left to take. */
  const step = (reason: LeftOut['reason']): boolean => {
    const last = developing.pop();
    if (last) {
      leftOut.push({ storyId: last.source.story.id, title: last.line.title, kind: 'developing', reason });
      return true;
    }
    const lowest = (candidates: Array<{ placed: Placed; list: Placed[] }>) =>
      candidates.reduce<{ placed: Placed; list: Placed[] } | null>(
        (low, entry) => (!low || entry.placed.item.score <= low.placed.item.score ? entry : low),
        null,
      );
    const all = sections.flatMap((section) =>
      section.placed.filter((placed) => !placed.pinned).map((placed) => ({ placed, list: section.placed })),
    );
    const compact = lowest(all.filter((entry) => !entry.placed.full));
    if (compact) {
      compact.list.splice(compact.list.indexOf(compact.placed), 1);
      leftOut.push({
        storyId: compact.placed.item.story.id,
        title: cardOf(compact.placed).title,
        kind: 'story',
        reason,
      });
      return true;
    }
    const full = lowest(all.filter((entry) => entry.placed.full));
    if (full) {
      full.placed.full = false;
      return true;
    }
    if (watchLimit > MIN_WATCH && measure().watch.length > MIN_WATCH) {
      watchLimit = measure().watch.length - 1;
      return true;
    }
    return false;
  };

  let extra = 0;
  for (; budgeted; ) {
    const over = measure().minutes > MAX_READ_MINUTES;
    if (!over && extra >= extraCuts) break;
    if (!step(over ? 'reading time' : 'size')) break;
    if (!over) extra++;
  }

  const { cards, watch, minutes } = measure();
  const heroCard = hero ? cardOf(hero) : null;
  const sectionOutlines = sections
    .map((section) => ({
      title: sectionTitle(section.segment),
      slug: section.segment.slug,
      cards: section.placed.map(cardOf),
    }))
    .filter((section) => section.cards.length > 0);
  const developingLines = developing.map((entry) => entry.line);
  const note = noteParagraphs(edition.writing?.note);
  const urls = [
    ...note.flatMap((parts) => parts.flatMap((part) => (part.kind === 'link' ? [part.url] : []))),
    ...cards.flatMap((card) => [
      card.url,
      ...card.related.map((link) => link.url),
      card.update?.earlierUrl ?? null,
    ]),
    ...developingLines.map((item) => item.url),
  ].filter((url): url is string => url !== null);
  const followed = edition.segments.map((segment) => clean(segment.name) ?? segment.slug);
  const summary = `${cards.length} ${cards.length === 1 ? 'story' : 'stories'} · ${minutes} min read`;
  const headlines = distinctHeadlines(cards.map((card) => card.title));
  return {
    subject: edition.writing?.subject ?? subjectLine(headlines, cards.length, weekRange),
    preheader:
      edition.writing?.preheader ?? preheaderText(headlines, summary, `Your AI news for ${weekRange}`),
    note,
    weekRange,
    summary,
    hero: heroCard,
    sections: sectionOutlines,
    watch,
    developing: developingLines,
    followed: listOf(followed),
    urls: [...new Set(urls)],
    minutes,
    leftOut,
    extraSteps: extra,
  };
}
