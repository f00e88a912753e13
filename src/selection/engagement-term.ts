import type { Story } from '../stories/story.ts';
import type { FeatureCounts, SegmentEngagement } from './selection.ts';
import type { StoryFeatures } from './story-features.ts';

/**
 * The engagement term (docs/selection.md, "Engagement"). For one segment and one feature f (a source or
 * a topic of `storyFeatures`), over the stories of that feature the segment's readers received in the
 * recent issues:
 *
 *   signal_f   = clicks_f + 2·more_f − 3·less_f
 *   base       = signal_total / exposure_total                  (the segment's average per copy)
 *   scale      = max(|base|, 0.02)
 *   prior      = 5 / scale                                     (copies in which 5 events are expected)
 *   rate_f     = (signal_f + prior·base) / (exposure_f + prior)  (shrunk towards the average)
 *   affinity_f = tanh((rate_f − base) / scale)                  (−1..1; 0 = average or unknown)
 *
 * A story's part = ½·affinity(source) + ½·mean(affinity of its topics with history), in −1..1; the
 * score adds weight × part (default weight 0.10), so a source readers said "less like this" about sinks.
 */
/** Pseudo-events at the segment's average every feature starts with: a handful of clicks moves little. */
export const ENGAGEMENT_PRIOR_EVENTS = 5;
const MIN_SCALE = 0.02;
const MORE_WEIGHT = 2;
const LESS_WEIGHT = 3;

export interface FeatureAffinity {
  affinity: number;
  counts: FeatureCounts;
}

/** Per feature key, the segment's affinity (features without any exposure are absent: unknown, 0). */
export function segmentAffinities(data: SegmentEngagement): Map<string, FeatureAffinity> {
  const signal = (c: FeatureCounts) => c.clicks + MORE_WEIGHT * c.more - LESS_WEIGHT * c.less;
  const base = data.total.exposure > 0 ? signal(data.total) / data.total.exposure : 0;
  const scale = Math.max(Math.abs(base), MIN_SCALE);
  const prior = ENGAGEMENT_PRIOR_EVENTS / scale;
  const out = new Map<string, FeatureAffinity>();
  for (const [key, counts] of Object.entries(data.features)) {
    if (counts.exposure <= 0 && counts.more === 0 && counts.less === 0) continue;
    const rate = (signal(counts) + prior * base) / (Math.max(0, counts.exposure) + prior);
    out.set(key, { affinity: Math.tanh((rate - base) / scale), counts });
  }
  return out;
}

/** One feature's share of a story's engagement part (they add up to the part). */
export interface EngagementContribution {
  key: string;
  value: number;
  counts: FeatureCounts;
}

export interface EngagementTerm {
  /** −1..1. */
  part: number;
  contributions: EngagementContribution[];
}

/** A story's engagement part alone (what scoring needs; no allocation): the same value as `engagementTerm(…).part`. */
export function engagementPart(
  features: StoryFeatures,
  affinities: ReadonlyMap<string, FeatureAffinity>,
): number {
  let part = 0.5 * (affinities.get(features.source)?.affinity ?? 0);
  let sum = 0;
  let known = 0;
  for (const key of features.topics) {
    const topic = affinities.get(key);
    if (!topic) continue;
    sum += topic.affinity;
    known += 1;
  }
  if (known > 0) part += (0.5 * sum) / known;
  return Math.max(-1, Math.min(1, part));
}

/** A story's engagement part for a segment from the segment's affinities, with each feature's share. Pure. */
export function engagementTerm(
  features: StoryFeatures,
  affinities: ReadonlyMap<string, FeatureAffinity>,
): EngagementTerm {
  const contributions: EngagementContribution[] = [];
  const source = affinities.get(features.source);
  if (source)
    contributions.push({ key: features.source, value: 0.5 * source.affinity, counts: source.counts });
  const topics = features.topics
    .map((key) => ({ key, known: affinities.get(key) }))
    .filter((t): t is { key: string; known: FeatureAffinity } => t.known !== undefined);
  for (const { key, known } of topics) {
    contributions.push({ key, value: (0.5 * known.affinity) / topics.length, counts: known.counts });
  }
  const part = contributions.reduce((sum, c) => sum + c.value, 0);
  return { part: Math.max(-1, Math.min(1, part)), contributions };
}

/** Contributions smaller than this (in score units) are not worth a "why" line. */
const REASON_FLOOR = 0.005;

/**
 * The "why" lines of an engagement part, largest first (at most two): "readers of Investors clicked
 * stories on nimbus5 (+0.04)", "Investors readers said less like this about Example Wire (−0.05)".
 */
export function engagementReasons(
  term: EngagementTerm,
  weight: number,
  segmentName: string,
  story: Pick<Story, 'source' | 'region'>,
): string[] {
  return term.contributions
    .map((c) => ({ ...c, points: weight * c.value }))
    .filter((c) => Math.abs(c.points) >= REASON_FLOOR)
    .sort((a, b) => Math.abs(b.points) - Math.abs(a.points) || (a.key < b.key ? -1 : 1))
    .slice(0, 2)
    .map((c) => {
      const points = `${c.points > 0 ? '+' : '−'}${Math.abs(c.points).toFixed(2)}`;
      const { about, of } = featureLabel(c.key, story);
      if (c.points < 0 && c.counts.less > 0)
        return `${segmentName} readers said less like this about ${about} (${points})`;
      if (c.points > 0 && c.counts.more > 0 && MORE_WEIGHT * c.counts.more >= c.counts.clicks)
        return `${segmentName} readers asked for more like ${about} (${points})`;
      if (c.points > 0) return `readers of ${segmentName} clicked stories ${of} (${points})`;
      return `readers of ${segmentName} seldom clicked stories ${of} (${points})`;
    });
}

function featureLabel(key: string, story: Pick<Story, 'source' | 'region'>): { about: string; of: string } {
  if (key.startsWith('source:')) return { about: story.source.name, of: `from ${story.source.name}` };
  if (key.startsWith('region:')) {
    const region = story.region ?? key.slice('region:'.length);
    return { about: `stories from ${region}`, of: `from ${region}` };
  }
  const name = key.slice(key.indexOf(':') + 1);
  return { about: `stories on ${name}`, of: `on ${name}` };
}
