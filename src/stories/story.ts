import { z } from 'zod';

/**
 * The form every stored URL takes: WHATWG-serialised, so non-ASCII is percent-encoded, IDN hosts are in
 * punycode and spaces are %20. It is plain ASCII without controls, so a redirect to it is always a valid
 * `Location` header. Null when the value is not an absolute http(s) URL. Idempotent; never throws.
 */
export function normalizeHttpUrl(value: string): string | null {
  try {
    const url = new URL(value.trim());
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return url.href;
  } catch {
    return null;
  }
}

/**
 * The enriched story as the aggregator publishes it (docs/story.schema.json is generated from this).
 * Unknown fields are ignored so a newer aggregator does not break imports. storyFromInput normalises
 * its URLs (see normalizeHttpUrl).
 */
const httpUrl = z
  .string()
  .trim()
  .refine((value) => normalizeHttpUrl(value) !== null, 'must be an http(s) URL')
  .meta({ format: 'uri', pattern: '^https?://', description: 'An absolute http(s) URL' });

const isoDateTime = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 date-time with zone, e.g. 2026-11-23T09:30:00Z',
});
const text = z.string().trim().min(1, 'must not be empty');
const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value ? value : undefined));

/**
 * At most this many related links per story: each becomes a tracked link of every edition that shows
 * the story as a full card. Stories stored before the cap keep their first ten (see storyRowToStory).
 */
export const RELATED_LIMIT = 10;

export const storyInputSchema = z
  .object({
    id: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
    title: text.max(500, 'must be at most 500 characters'),
    hook: z
      .string()
      .trim()
      .max(300, 'must be at most 300 characters')
      .optional()
      .transform((value) => (value ? value : undefined))
      .meta({
        description:
          'One-line hook shown under the title (the card\'s dek), e.g. "HK\'s strategy to lead AI outside US-China rivalry unlocks new collab ops"',
      }),
    url: httpUrl,
    source: z.object({ name: text, url: httpUrl.optional() }),
    region: optionalText.meta({
      description: 'ISO 3166 region code of the story, e.g. "HK"; shown as a flag',
    }),
    publishedAt: isoDateTime.optional(),
    collectedAt: isoDateTime.optional(),
    audiences: z
      .array(text)
      .default([])
      .meta({ description: 'Audience segment names, e.g. "Founders & Product Leaders"' }),
    tldr: z
      .object({ whatChanged: optionalText, whyItMatters: optionalText, whatToDoNext: optionalText })
      .default({ whatChanged: undefined, whyItMatters: undefined, whatToDoNext: undefined }),
    keyTakeaways: z.array(text).default([]),
    implications: z.array(z.object({ prediction: text, rationale: optionalText })).default([]),
    timeline: z
      .array(
        z.object({
          date: text.meta({ description: '"2026", "2026-01", "2026-01-15" or an ISO date-time' }),
          event: text,
        }),
      )
      .default([]),
    related: z
      .array(
        z.union([
          z.string(),
          z.object({ id: z.string().optional(), title: z.string().optional(), url: httpUrl.optional() }),
        ]),
      )
      .max(RELATED_LIMIT, `must have at most ${RELATED_LIMIT} related links`)
      .default([])
      .meta({ description: `Related stories, at most ${RELATED_LIMIT}` }),
    retracted: z.boolean().optional().meta({
      description: 'true withdraws the story (then only id is needed): it leaves every issue not yet sent',
    }),
  })
  .refine((story) => story.publishedAt !== undefined || story.collectedAt !== undefined, {
    message: 'needs publishedAt or collectedAt',
    path: ['publishedAt'],
  })
  .superRefine((story, context) => {
    for (const [path, value] of stringsOf(story, [])) {
      const reason = unstorableTextReason(value);
      if (reason) context.addIssue({ code: 'custom', message: reason, path });
    }
  });

/**
 * Why PostgreSQL would refuse a text as a `text` or `jsonb` value, or null when it stores it: a NUL
 * character (never in `text`; `\u0000` not in `jsonb`) or an unpaired UTF-16 surrogate (its JSON escape
 * is refused by `jsonb`). Refused at validation so the record is reported, not the whole request failed.
 */
export function unstorableTextReason(value: string): string | null {
  if (value.includes('\u0000')) return 'must not contain the NUL character (\\u0000)';
  if (unpairedSurrogate.test(value)) return 'must not contain an unpaired surrogate (invalid Unicode)';
  return null;
}

const unpairedSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function* stringsOf(value: unknown, path: PropertyKey[]): Generator<[PropertyKey[], string]> {
  if (typeof value === 'string') yield [path, value];
  else if (Array.isArray(value))
    for (const [i, item] of value.entries()) yield* stringsOf(item, [...path, i]);
  else if (value !== null && typeof value === 'object')
    for (const [key, item] of Object.entries(value)) yield* stringsOf(item, [...path, key]);
}

export type StoryInput = z.output<typeof storyInputSchema>;

export interface StorySource {
  name: string;
  url: string | null;
}

export interface Implication {
  prediction: string;
  rationale: string | null;
}

export interface TimelineEvent {
  /** As published: '2026-01', '2026-11-23' or a full date-time. */
  date: string;
  event: string;
}

export interface RelatedStory {
  id?: string;
  title?: string;
  url?: string;
}

/** An enriched story inside the application: every optional part is null or empty, never undefined. */
export interface Story {
  id: string;
  title: string;
  /** One-line hook shown under the title; null (or absent, in stories built before it existed) when none. */
  hook?: string | null;
  url: string;
  /** The url without tracking parameters, fragment, `www.` or trailing slash: same-event clustering keys on it. */
  canonicalUrl: string;
  source: StorySource;
  region: string | null;
  publishedAt: Date | null;
  collectedAt: Date | null;
  /** Audience segment names as published ("Founders & Product Leaders"). */
  audiences: string[];
  tldr: { whatChanged: string | null; whyItMatters: string | null; whatToDoNext: string | null };
  keyTakeaways: string[];
  implications: Implication[];
  timeline: TimelineEvent[];
  related: RelatedStory[];
}

/** The moment a story belongs to: published, else collected. */
export function storyTime(story: Pick<Story, 'publishedAt' | 'collectedAt'>): Date {
  const time = story.publishedAt ?? story.collectedAt;
  if (!time) throw new Error('story without publishedAt and collectedAt');
  return time;
}

const trackingParameter = /^(utm_.*|fbclid|gclid|mc_cid|mc_eid|ref|ref_src|cmpid|ocid)$/i;

export function canonicalizeUrl(raw: string): string {
  const url = new URL(raw);
  url.hash = '';
  url.hostname = url.hostname.toLowerCase().replace(/^www\./, '');
  for (const key of [...url.searchParams.keys()]) {
    if (trackingParameter.test(key)) url.searchParams.delete(key);
  }
  url.searchParams.sort();
  const pathname = url.pathname.replace(/\/+$/, '');
  return `${url.protocol}//${url.host}${pathname}${url.search}`;
}

/** The story as stored: URLs WHATWG-serialised (see normalizeHttpUrl), audiences de-duplicated. */
export function storyFromInput(input: StoryInput): Story {
  return {
    id: input.id,
    title: input.title,
    hook: input.hook ?? null,
    url: normalized(input.url),
    canonicalUrl: canonicalizeUrl(input.url),
    source: { name: input.source.name, url: input.source.url ? normalized(input.source.url) : null },
    region: input.region ?? null,
    publishedAt: input.publishedAt ? new Date(input.publishedAt) : null,
    collectedAt: input.collectedAt ? new Date(input.collectedAt) : null,
    audiences: [...new Set(input.audiences)],
    tldr: {
      whatChanged: input.tldr.whatChanged ?? null,
      whyItMatters: input.tldr.whyItMatters ?? null,
      whatToDoNext: input.tldr.whatToDoNext ?? null,
    },
    keyTakeaways: input.keyTakeaways,
    implications: input.implications.map((i) => ({
      prediction: i.prediction,
      rationale: i.rationale ?? null,
    })),
    timeline: input.timeline,
    related: input.related.map((r) =>
      typeof r === 'string' ? { id: r } : r.url ? { ...r, url: normalized(r.url) } : r,
    ),
  };
}

/** A URL the schema accepted, in its stored form. */
function normalized(url: string): string {
  return normalizeHttpUrl(url) ?? url;
}
