import { type IsoWeek, previousIsoWeek, weekBounds } from '../calendar/iso-week.ts';
import { type Segment, segmentSlug } from '../stories/segment.ts';
import { canonicalizeUrl, type Story } from '../stories/story.ts';
import type { SubscriberInput } from '../subscribers/subscriber-import.ts';
import { type DemoEvent, demoEvents, demoOutlets, demoSegments } from './demo-events.ts';

const HOUR = 3_600_000;

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function storyOf(event: DemoEvent, outletIndex: number, weekStart: Date, idPrefix: string): Story {
  const coverage = event.coverage[outletIndex];
  const outlet = demoOutlets.find((o) => o.name === coverage?.outlet);
  if (!coverage || !outlet) throw new Error(`demo event ${event.key}: unknown outlet`);
  // Later outlets follow the first report by a few hours, as real coverage does.
  const published = new Date(weekStart.getTime() + (event.day * 24 + event.hour + outletIndex * 3) * HOUR);
  const slug = segmentSlug(coverage.title).slice(0, 60);
  const url = `https://www.${outlet.domain}/ai/${isoDay(published)}/${slug}`;
  return {
    id: `${idPrefix}-${event.key}-${segmentSlug(outlet.name)}`,
    title: coverage.title,
    url,
    canonicalUrl: canonicalizeUrl(url),
    source: { name: outlet.name, url: `https://www.${outlet.domain}/` },
    region: outlet.region,
    publishedAt: published,
    collectedAt: new Date(published.getTime() + 0.1 * HOUR),
    audiences: event.segments,
    tldr: event.tldr,
    keyTakeaways: event.keyTakeaways,
    implications: event.implications,
    timeline: event.timeline,
    related: [],
  };
}

/**
 * Events whose story moves on every week: their timeline gains a dated entry on the day they are
 * reported. A demo run for a second week then finds the event sent the week before with something new,
 * and shows it as an update ("Update: …", what changed since, the earlier issue's link).
 */
const weeklyDevelopments: Readonly<Record<string, string>> = {
  'tern-70b': 'The Tern collective publishes new Tern-70B weights and an evaluation report.',
};

function withWeeklyDevelopment(story: Story, event: DemoEvent, weekStart: Date): Story {
  const development = weeklyDevelopments[event.key];
  if (!development) return story;
  const day = isoDay(new Date(weekStart.getTime() + (event.day * 24 + event.hour) * HOUR));
  return { ...story, timeline: [...story.timeline, { date: day, event: development }] };
}

/**
 * The demo's stories for a week: every outlet's report of every event, dated inside the week, plus two
 * stories from the week before whose timelines gained an event this week ("developing stories").
 * Deterministic: the same week always yields the same ids, so seeding twice updates instead of duplicating.
 */
export function demoStories(week: IsoWeek, timeZone: string): Story[] {
  const { start } = weekBounds(week, timeZone);
  const prefix = `demo-${week.year}-w${String(week.week).padStart(2, '0')}`;
  const stories = demoEvents.flatMap((event) =>
    event.coverage.map((_, index) =>
      withWeeklyDevelopment(storyOf(event, index, start, prefix), event, start),
    ),
  );

  const previous = previousIsoWeek(week);
  const previousStart = weekBounds(previous, timeZone).start;
  const previousPrefix = `demo-${previous.year}-w${String(previous.week).padStart(2, '0')}`;
  const wednesday = isoDay(new Date(start.getTime() + 2 * 24 * HOUR + 12 * HOUR));
  const thursday = isoDay(new Date(start.getTime() + 3 * 24 * HOUR + 12 * HOUR));
  const developing: Array<[DemoEvent, string, string]> = [
    [
      {
        key: 'chipmaker-antitrust',
        segments: ['Policy & Legal', 'Investors'],
        day: 2,
        hour: 10,
        coverage: [{ outlet: 'Financial Times', title: 'EU opens antitrust probe into AI chip bundling' }],
        tldr: {
          whatChanged:
            'The European Commission opened an antitrust investigation into bundling of AI accelerators with networking gear.',
          whyItMatters: 'Bundling shapes data-centre costs for every AI company buying compute in Europe.',
          whatToDoNext: 'Procurement teams should document any bundled pricing offers they receive.',
        },
        keyTakeaways: [],
        implications: [],
        timeline: [
          {
            date: isoDay(new Date(previousStart.getTime() + 2 * 24 * HOUR)),
            event: 'The Commission opens the investigation.',
          },
        ],
      },
      wednesday,
      'The Commission sends formal requests for information to three suppliers.',
    ],
    [
      {
        key: 'open-model-licence-dispute',
        segments: ['Engineers & Developers', 'Founders & Product Leaders'],
        day: 3,
        hour: 15,
        coverage: [
          {
            outlet: 'Ars Technica',
            title: 'Licence dispute over a popular open model’s training data goes to court',
          },
        ],
        tldr: {
          whatChanged:
            'A group of publishers sued the maker of a popular open-weights model over its training data.',
          whyItMatters:
            'The outcome could decide whether downstream users of open weights carry any liability.',
          whatToDoNext: 'Keep a record of which open models you deploy and under which licence version.',
        },
        keyTakeaways: [],
        implications: [],
        timeline: [
          {
            date: isoDay(new Date(previousStart.getTime() + 3 * 24 * HOUR)),
            event: 'Publishers file the lawsuit.',
          },
        ],
      },
      thursday,
      'The court schedules a first hearing and denies an emergency injunction.',
    ],
  ];
  for (const [event, date, update] of developing) {
    const story = storyOf(event, 0, previousStart, previousPrefix);
    stories.push({ ...story, timeline: [...story.timeline, { date, event: update }] });
  }
  return stories;
}

const firstNames = [
  'Ada',
  'Ben',
  'Chiara',
  'Dmitri',
  'Esi',
  'Farah',
  'Goran',
  'Hana',
  'Ines',
  'Jonas',
  'Kemal',
  'Lena',
  'Mateo',
  'Nia',
  'Oskar',
  'Priya',
  'Quentin',
  'Rosa',
  'Sven',
  'Tomoko',
  'Uma',
  'Victor',
];
const lastNames = [
  'Abbott',
  'Bauer',
  'Chen',
  'Dubois',
  'Eze',
  'Fischer',
  'García',
  'Haddad',
  'Ito',
  'Jensen',
];
const zones = [
  'Europe/Berlin',
  'America/New_York',
  'Asia/Singapore',
  'Europe/London',
  null,
  'America/Los_Angeles',
];

/**
 * The demo's list: 220 readers with deterministic names, addresses on reserved example domains and
 * one to three segments each, every segment followed by many readers.
 */
export function demoSubscribers(segments: readonly Segment[]): SubscriberInput[] {
  const bySlug = new Map(segments.map((s) => [s.slug, s.id]));
  const ids = demoSegments.map((name) => {
    const id = bySlug.get(segmentSlug(name));
    if (id === undefined) throw new Error(`demo segment missing: ${name}`);
    return id;
  });
  const domains = ['example.com', 'example.org', 'example.net'];
  return Array.from({ length: 220 }, (_, i) => {
    const first = firstNames[i % firstNames.length] as string;
    const last = lastNames[Math.floor(i / firstNames.length) % lastNames.length] as string;
    const count = 1 + (i % 3);
    const segmentIds = Array.from({ length: count }, (_, k) => ids[(i * 7 + k * 2) % ids.length] as number);
    return {
      email: `${first}.${last}.${i + 1}@${domains[i % domains.length]}`
        .normalize('NFD')
        .replace(/[\u0300-\u036f]/g, '')
        .toLowerCase(),
      name: `${first} ${last}`,
      timeZone: zones[i % zones.length] ?? null,
      segmentIds: [...new Set(segmentIds)],
    };
  });
}
