/**
 * Simulated readers over 12 weekly issues: does each reader's own order raise the human click rate
 * against the holdout, by how much, and how soon can we tell? Seeded, so every run prints the same table.
 *
 * Readers have hidden tastes (a liked and a disliked source, two liked topics). Each week brings new
 * stories in two segments; each reader's edition is cut by the real reading budget (recapOutline) and the
 * real movable-story rule (movableStories), and ordered by the real model (personalOrder) from the
 * reader's own clicks of the last 12 issues, except for the holdout (10 % by a hash of issue and reader,
 * editorial order). A reader clicks a story with probability base × position bias × taste.
 *
 * Run: npx tsx bench/personal-order-sim.ts [readers]   (npm run bench -- personal-order)
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { editionFor, type IssueContent, type IssueStory } from '../src/issues/issue-content.ts';
import { orderableSections } from '../src/personal-order/orderable-edition.ts';
import { type HistoryEvent, personalOrder } from '../src/personal-order/personal-order.ts';
import { type RateDifference, rateDifference } from '../src/personal-order/rate-difference.ts';
import { movableStories } from '../src/render/movable-stories.ts';
import { recapOutline } from '../src/render/recap-outline.ts';
import { storyFeatures } from '../src/selection/story-features.ts';
import type { Segment } from '../src/stories/segment.ts';
import { canonicalizeUrl, type Story } from '../src/stories/story.ts';

export interface SimulationOptions {
  readers: number;
  weeks?: number;
  seed?: number;
  holdout?: number;
}

export interface WeekResult {
  week: number;
  personal: { delivered: number; clickers: number };
  holdout: { delivered: number; clickers: number };
  /** Personal-group copies whose order differed from the editorial one. */
  reordered: number;
  comparison: RateDifference;
  /** Weeks 1..week pooled (a reader counted once per week): the interval narrows as weeks add up. */
  cumulative: RateDifference;
}

export interface SimulationResult {
  weeks: WeekResult[];
  /** First week whose own 95 % interval lies above 0 (with enough data), or null. */
  firstSignificantWeek: number | null;
  /** First week from which the pooled interval of weeks 1..w lies above 0 for good, or null. */
  firstCumulativeWeek: number | null;
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SOURCES = [
  'Reuters',
  'The Verge',
  'Wired',
  'Ars Technica',
  'TechCrunch',
  'Bloomberg',
  'FT',
  'MIT News',
];
const TOPICS = [
  'Nimbus',
  'Orion',
  'Vega',
  'Lyra',
  'Atlas',
  'Helix',
  'Quasar',
  'Zephyr',
  'Aurora',
  'Cobalt',
  'Nova',
  'Pulsar',
];
const SEGMENTS: Segment[] = [
  { id: 1, name: 'Engineers & Developers', slug: 'engineers' },
  { id: 2, name: 'Researchers', slug: 'researchers' },
];
const STORIES_PER_SEGMENT = 9;
/** Chance of a click on the top story for a neutral taste; falls with the position (see positionBias). */
const BASE_CLICK = 0.03;
const positionBias = (position: number) => 1 / (1 + 0.3 * position);

interface Reader {
  id: number;
  slugs: string[];
  source: Map<string, number>;
  topic: Map<string, number>;
  history: HistoryEvent[];
  /** The stories of each edition received, oldest first (shared arrays, ages set when read). */
  shown: HistoryEvent[][];
}

function makeReaders(count: number, random: () => number): Reader[] {
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
  return Array.from({ length: count }, (_, id) => {
    const source = new Map<string, number>();
    const liked = pick(SOURCES);
    source.set(`source:${liked.toLowerCase()}`, 3);
    const disliked = pick(SOURCES.filter((s) => s !== liked));
    source.set(`source:${disliked.toLowerCase()}`, 0.3);
    const topic = new Map<string, number>();
    for (let i = 0; i < 2; i++) topic.set(`name:${pick(TOPICS).toLowerCase()}`, 3);
    const follows = random();
    const slugs =
      follows < 0.4 ? ['engineers'] : follows < 0.8 ? ['researchers'] : ['engineers', 'researchers'];
    return { id: id + 1, slugs, source, topic, history: [], shown: [] };
  });
}

export function weekContent(week: number, random: () => number): IssueContent {
  const weekStart = new Date(Date.UTC(2026, 0, 5 + 7 * week));
  const weekEnd = new Date(weekStart.getTime() + 7 * 86_400_000);
  const sections = SEGMENTS.map((segment) => ({
    segment,
    skipped: false,
    skipReason: null,
    stories: Array.from({ length: STORIES_PER_SEGMENT }, (_, n): IssueStory => {
      const id = `w${week}-${segment.slug}-${n}`;
      const topic = TOPICS[Math.floor(random() * TOPICS.length)] as string;
      const url = `https://news.example.com/${id}`;
      const story: Story = {
        id,
        title: `Lab ships ${topic} update ${week}.${n}`,
        canonicalUrl: canonicalizeUrl(url),
        url,
        source: { name: SOURCES[Math.floor(random() * SOURCES.length)] as string, url: null },
        region: null,
        publishedAt: new Date(weekStart.getTime() + 86_400_000),
        collectedAt: null,
        audiences: [segment.name],
        tldr: {
          whatChanged: `The ${topic} release is out.`,
          whyItMatters: 'It matters.',
          whatToDoNext: null,
        },
        keyTakeaways: [],
        implications: [],
        timeline: [],
        related: [],
      };
      return {
        story,
        score: 1 - n / 20,
        fallback: false,
        alsoCoveredBy: [],
        reasons: [],
        scoreBreakdown: {},
      };
    }),
  }));
  return {
    issueId: week,
    week: `2026-W${String(week).padStart(2, '0')}`,
    weekStart,
    weekEnd,
    timeZone: 'UTC',
    sections,
    developing: [],
  };
}

/** The same split as the freeze: md5(issue id ‖ ':' ‖ subscriber id), first 32 bits below the share. */
function inHoldout(issueId: number, readerId: number, share: number): boolean {
  return createHash('md5').update(`${issueId}:${readerId}`).digest().readUInt32BE(0) < share * 2 ** 32;
}

/** Runs the simulation. Deterministic for a given seed. */
export function simulatePersonalOrder(options: SimulationOptions): SimulationResult {
  const weeks = options.weeks ?? 12;
  const holdoutShare = options.holdout ?? 0.1;
  const random = prng(options.seed ?? 2026);
  const readers = makeReaders(options.readers, random);
  const results: WeekResult[] = [];
  const pooled = { personal: { delivered: 0, clickers: 0 }, holdout: { delivered: 0, clickers: 0 } };
  for (let week = 1; week <= weeks; week++) {
    const content = weekContent(week, random);
    const editions = new Map<
      string,
      {
        cards: string[];
        sections: ReturnType<typeof orderableSections>;
        stories: Map<string, Story>;
        shown: HistoryEvent[];
      }
    >();
    for (const slugs of [['engineers'], ['researchers'], ['engineers', 'researchers']]) {
      const edition = editionFor(content, slugs);
      const outline = recapOutline(edition);
      const cards = [outline.hero, ...outline.sections.flatMap((s) => s.cards)].flatMap((c) =>
        c ? [c.storyId] : [],
      );
      const stories = new Map<string, Story>();
      for (const section of edition.sections)
        for (const item of section.stories) stories.set(item.story.id, item.story);
      if (edition.hero) stories.set(edition.hero.story.id, edition.hero.story);
      const sections = orderableSections(edition, movableStories(edition, outline));
      const shown = cards.map((id) => ({
        storyId: id,
        features: storyFeatures(stories.get(id) as Story),
        action: 'shown' as const,
        age: 0,
      }));
      editions.set(slugs.join('+'), { cards, sections, stories, shown });
    }
    const tally = { personal: { delivered: 0, clickers: 0 }, holdout: { delivered: 0, clickers: 0 } };
    let reordered = 0;
    for (const reader of readers) {
      const key = reader.slugs.join('+');
      const edition = editions.get(key);
      if (!edition) continue;
      const holdout = inHoldout(week, reader.id, holdoutShare);
      const order = holdout
        ? null
        : personalOrder(
            [
              ...reader.shown.flatMap((events, i) =>
                events.map((e) => ({ ...e, age: reader.shown.length - 1 - i })),
              ),
              ...reader.history,
            ],
            edition.sections,
          );
      if (order) reordered++;
      // Apply the order: movable slots in the card list take the reader's order, the rest stay.
      let cards = edition.cards;
      if (order) {
        const queue = [...order];
        const movableSet = new Set(edition.sections.flatMap((s) => s.stories.map((x) => x.id)));
        cards = edition.cards.map((id) => (movableSet.has(id) ? (queue.shift() as string) : id));
      }
      let clicked = false;
      cards.forEach((id, position) => {
        const story = edition.stories.get(id) as Story;
        const features = storyFeatures(story);
        const topicTaste =
          features.topics.reduce((sum, t) => sum + (reader.topic.get(t) ?? 1), 0) /
          Math.max(1, features.topics.length);
        const taste = (reader.source.get(features.source) ?? 1) * topicTaste;
        if (random() < Math.min(0.95, BASE_CLICK * positionBias(position) * taste)) {
          clicked = true;
          reader.history.push({ storyId: id, features, action: 'click', age: 0 });
        }
      });
      reader.shown.push(edition.shown);
      const group = holdout ? tally.holdout : tally.personal;
      group.delivered++;
      if (clicked) group.clickers++;
    }
    // A week passes: every event ages by one issue, and only the last 12 issues count.
    for (const reader of readers) {
      reader.history = reader.history.map((e) => ({ ...e, age: e.age + 1 })).filter((e) => e.age < 12);
      reader.shown = reader.shown.slice(-12);
    }
    for (const group of ['personal', 'holdout'] as const) {
      pooled[group].delivered += tally[group].delivered;
      pooled[group].clickers += tally[group].clickers;
    }
    results.push({
      week,
      ...tally,
      reordered,
      cumulative: rateDifference(
        pooled.personal.clickers,
        pooled.personal.delivered,
        pooled.holdout.clickers,
        pooled.holdout.delivered,
      ),
      comparison: rateDifference(
        tally.personal.clickers,
        tally.personal.delivered,
        tally.holdout.clickers,
        tally.holdout.delivered,
      ),
    });
  }
  const above = (d: RateDifference) => d.enoughData && d.low > 0;
  const first = results.find((r) => above(r.comparison));
  const lastBelow = results.findLastIndex((r) => !above(r.cumulative));
  const firstCumulative = results[lastBelow + 1];
  return {
    weeks: results,
    firstSignificantWeek: first ? first.week : null,
    firstCumulativeWeek: firstCumulative ? firstCumulative.week : null,
  };
}

const pct = (value: number) => `${(value * 100).toFixed(2)} %`;
const pts = (value: number) => `${value >= 0 ? '+' : '−'}${Math.abs(value * 100).toFixed(2)}`;

/** The markdown table of a run. */
export function simulationTable(result: SimulationResult): string {
  const lines = [
    '| week | personal: delivered | clickers | click rate | holdout: delivered | clickers | click rate | difference (points) | 95 % interval | weeks 1..w pooled: difference | 95 % interval | reordered copies |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---:|',
    ...result.weeks.map((w) => {
      const rate = (g: { delivered: number; clickers: number }) =>
        g.delivered > 0 ? g.clickers / g.delivered : 0;
      const c = w.comparison;
      return `| ${w.week} | ${w.personal.delivered} | ${w.personal.clickers} | ${pct(rate(w.personal))} | ${w.holdout.delivered} | ${w.holdout.clickers} | ${pct(rate(w.holdout))} | ${pts(c.difference)} | ${pts(c.low)} to ${pts(c.high)}${c.significant ? ' *' : ''} | ${pts(w.cumulative.difference)} | ${pts(w.cumulative.low)} to ${pts(w.cumulative.high)}${w.cumulative.significant ? ' *' : ''} | ${w.reordered} |`;
    }),
  ];
  return `${lines.join('\n')}\n\n* the 95 % interval excludes 0. First week whose own interval lies above 0: ${result.firstSignificantWeek ?? 'none'}; first week from which the pooled interval stays above 0: ${result.firstCumulativeWeek ?? 'none'}.\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const readers = Number(process.argv[2] ?? 50_000);
  const started = performance.now();
  const result = simulatePersonalOrder({ readers });
  console.log(`Personal order simulation: ${readers} readers, 12 weeks, holdout 10 %, seed 2026\n`);
  console.log(simulationTable(result));
  console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
