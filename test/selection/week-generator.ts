import { canonicalizeUrl, type Story } from '../../src/stories/story.ts';

/** Deterministic pseudo-random numbers (mulberry32), so a generated week is the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const generatorSegments = [
  'Founders & Product Leaders',
  'Engineers & Developers',
  'Researchers',
  'Investors',
  'Policy & Legal',
];

export const generatorOutlets = [
  'Reuters',
  'Bloomberg',
  'The Verge',
  'TechCrunch',
  'Wired',
  'Ars Technica',
  'VentureBeat',
  'MIT Technology Review',
  'The Information',
  'Axios',
  'Silicon Dispatch',
  'Model Weekly',
];

const syllables = [
  'zor',
  'vex',
  'ka',
  'lum',
  'tri',
  'no',
  'qua',
  'sel',
  'dra',
  'mi',
  'pho',
  'ren',
  'tal',
  'gi',
  'bex',
  'ul',
];

type Template = (e: { company: string; product: string; amount: string; topic: string }) => [string, string];

// Each action has several wordings of the same facts, as different outlets would write them.
const actions: Template[][] = [
  [
    (e) => [
      `${e.company} releases ${e.product} with ${e.topic}`,
      `${e.company} launched ${e.product}, a model with ${e.topic}.`,
    ],
    (e) => [
      `${e.product}: ${e.company} ships its biggest model yet`,
      `The new ${e.product} model from ${e.company} brings ${e.topic}.`,
    ],
    (e) => [
      `Hands-on with ${e.product}, ${e.company}'s latest model`,
      `${e.company} made ${e.product} available with ${e.topic}.`,
    ],
  ],
  [
    (e) => [
      `${e.company} raises ${e.amount} to build ${e.product}`,
      `${e.company} closed a ${e.amount} round to scale ${e.product}.`,
    ],
    (e) => [
      `${e.product} maker ${e.company} lands ${e.amount} in new funding`,
      `Investors put ${e.amount} into ${e.company}, maker of ${e.product}.`,
    ],
    (e) => [
      `${e.amount} round for ${e.company} as ${e.product} demand grows`,
      `${e.company} secured ${e.amount} for ${e.product}.`,
    ],
  ],
  [
    (e) => [
      `Regulators open probe into ${e.company}'s ${e.product}`,
      `Authorities opened an investigation of ${e.product} by ${e.company} over ${e.topic}.`,
    ],
    (e) => [
      `${e.company} faces inquiry over ${e.product}`,
      `An inquiry targets ${e.company}'s ${e.product} and ${e.topic}.`,
    ],
  ],
  [
    (e) => [
      `${e.company} researchers publish ${e.product} paper on ${e.topic}`,
      `A ${e.company} paper introduces ${e.product} for ${e.topic}.`,
    ],
    (e) => [
      `New ${e.product} study from ${e.company} tackles ${e.topic}`,
      `${e.company} described ${e.product}, targeting ${e.topic}.`,
    ],
  ],
];

const topics = [
  'a two-million-token context window',
  'on-device inference for phones',
  'cheaper fine-tuning for enterprises',
  'agentic coding benchmarks',
  'medical imaging triage',
  'energy-efficient training',
  'multilingual speech translation',
  'robotics control from video',
  'copyright questions about training data',
  'safety evaluations for frontier systems',
];

export interface GeneratedWeek {
  stories: Story[];
  /** The known same-event groups, as sorted story ids. */
  events: string[][];
  /** The event with the most outlets. */
  widestEvent: string[];
}

/**
 * A week of stories with known same-event clusters: `events` events, each reported by 1..6 outlets
 * under reworded headlines (the first event by 6), tagged for 1..3 segments, spread over the week of
 * 2026-W48 (UTC). Some companies recur across events, as in real news. `outOfWeek` extra stories are
 * dated the week before and after.
 */
export function generateWeek(options: {
  seed: number;
  events: number;
  outOfWeek?: number;
  /** Segment names to tag with (default: generatorSegments). */
  segments?: readonly string[];
}): GeneratedWeek {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const word = (parts: number) => {
    let out = '';
    for (let i = 0; i < parts; i++) out += pick(syllables);
    return out;
  };
  const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  const companies = Array.from(
    { length: Math.max(1, Math.ceil(options.events / 3)) },
    (_, i) => `${capital(word(2))}${i} Labs`,
  );
  const weekStart = Date.parse('2026-11-23T00:00:00Z');
  const day = 86_400_000;
  const stories: Story[] = [];
  const events: string[][] = [];
  const topicsOf = new Map<string, Set<string>>();
  for (let e = 0; e < options.events; e++) {
    const company = pick(companies);
    // A company's events this week are about different things, as in real news; otherwise two events
    // would differ only by a product name, which no reader would call two stories either.
    const used = topicsOf.get(company) ?? new Set<string>();
    const topic = pick(topics.filter((t) => !used.has(t)).concat(used.size >= topics.length ? topics : []));
    topicsOf.set(company, used.add(topic));
    const facts = {
      company,
      product: `${capital(word(2))}${e}-${1 + Math.floor(random() * 9)}`,
      amount: `$${1 + Math.floor(random() * 900)}${pick(['M', 'B'])}`,
      topic,
    };
    const wordings = pick(actions);
    const outlets = e === 0 ? 6 : 1 + Math.floor(random() ** 2 * 5);
    const sources = [...generatorOutlets].sort(() => random() - 0.5).slice(0, outlets);
    const segments = [...(options.segments ?? generatorSegments)]
      .sort(() => random() - 0.5)
      .slice(0, 1 + Math.floor(random() * 3));
    const eventTime = weekStart + Math.floor(random() * 6 * day);
    const ids: string[] = [];
    sources.forEach((source, k) => {
      const [title, whatChanged] = (wordings[k % wordings.length] as Template)(facts);
      const id = `e${String(e).padStart(5, '0')}-${k}`;
      const url = `https://${source.toLowerCase().replace(/[^a-z]+/g, '')}.example/${id}`;
      ids.push(id);
      stories.push({
        id,
        title: k >= wordings.length ? `${pick(['Report', 'Analysis', 'Update'])}: ${title}` : title,
        url,
        canonicalUrl: canonicalizeUrl(url),
        source: { name: source, url: `https://${source.toLowerCase().replace(/[^a-z]+/g, '')}.example` },
        region: pick(['US', 'EU', 'UK', 'CN', null]),
        publishedAt: new Date(Math.min(eventTime + Math.floor(random() * day), weekStart + 7 * day - 1)),
        collectedAt: null,
        audiences: segments,
        tldr: {
          whatChanged,
          whyItMatters: random() < 0.8 ? 'It shifts what teams can build this quarter.' : null,
          whatToDoNext: random() < 0.7 ? 'Try it on one workload before committing.' : null,
        },
        keyTakeaways: random() < 0.8 ? ['The numbers are early.'] : [],
        implications: random() < 0.5 ? [{ prediction: 'Rivals will follow.', rationale: null }] : [],
        timeline: [],
        related: [],
      });
    });
    events.push(ids.sort());
  }
  for (let i = 0; i < (options.outOfWeek ?? 0); i++) {
    const before = i % 2 === 0;
    const id = `out-${i}`;
    const url = `https://elsewhere.example/${id}`;
    stories.push({
      id,
      title: `Out of week ${capital(word(3))} announcement ${i}`,
      url,
      canonicalUrl: canonicalizeUrl(url),
      source: { name: 'Reuters', url: null },
      region: 'US',
      publishedAt: new Date(
        before
          ? weekStart - 1 - Math.floor(random() * day)
          : weekStart + 7 * day + Math.floor(random() * day),
      ),
      collectedAt: null,
      audiences: [pick(options.segments ?? generatorSegments)],
      tldr: { whatChanged: 'Something big happened.', whyItMatters: 'Everyone cares.', whatToDoNext: 'Act.' },
      keyTakeaways: ['Big.'],
      implications: [],
      timeline: [],
      related: [],
    });
  }
  return { stories, events, widestEvent: events[0] as string[] };
}
