import { civilDayOf, parseIsoWeek, weekBounds } from '../calendar/iso-week.ts';
import type { Segment } from '../stories/segment.ts';
import type { Story, TimelineEvent } from '../stories/story.ts';
import { type Clustering, clusterStories, compareIds, type StoryCluster } from './cluster-stories.ts';
import {
  type EngagementTerm,
  engagementPart,
  engagementReasons,
  engagementTerm,
  type FeatureAffinity,
  segmentAffinities,
} from './engagement-term.ts';
import { type ScoringContext, scoreStory } from './score-story.ts';
import type {
  EarlierIssue,
  PassedOverStory,
  ScoreBreakdown,
  SegmentSelection,
  SelectedStory,
  Selection,
  SelectionInput,
  SelectionOverride,
  StoryUpdate,
} from './selection.ts';
import { featuresFromNameWords, type StoryFeatures, storyFeatures } from './story-features.ts';

/** How many passed-over stories each segment reports. */
const CANDIDATES_SHOWN = 10;
/** Continuations of stories sent in this many recent issues become updates. */
export const UPDATE_LOOKBACK_ISSUES = 4;
/** At most this many new timeline events per update. */
const MAX_NEW_EVENTS = 5;

/** A cluster seen from one segment: its members ranked for that segment. */
interface Entry {
  cluster: StoryCluster;
  members: Array<{ story: Story; score: number; breakdown: ScoreBreakdown }>;
  /** The best member's score: an upper bound of any member's. */
  score: number;
  time: number;
}

/** A week's cluster that reports the same event as a story of a recent issue (the newest such issue). */
interface Continuation {
  earlier: EarlierIssue;
  previous: Story;
  /** Whether the cluster continues a story of the most recent issue (set aside without new events). */
  latestIssue: boolean;
  /** Day-precise events after the earlier send, from any member or the earlier story's current timeline. */
  newEvents: TimelineEvent[];
}

/**
 * Picks each segment's stories for a week and explains every pick. Pure and deterministic: the same
 * input (in any order) gives the same output. Never selects a story outside the week, never two stories
 * of one event in a segment, never more than `maxPerSource` of a source in a segment (pins aside).
 * Throws only for a malformed `week`.
 */
export function selectIssue(input: SelectionInput): Selection {
  const isoWeek = parseIsoWeek(input.week);
  if (!isoWeek) throw new Error(`not an ISO week: ${input.week}`);
  const { start, end } = weekBounds(isoWeek, input.timeZone);
  const { config } = input;
  const inWeek = input.stories.filter((story) => {
    const time = story.publishedAt ?? story.collectedAt;
    return time !== null && time >= start && time < end;
  });
  const earlier = [...input.earlier]
    .sort((a, b) => compareIds(b.week, a.week) || b.issueId - a.issueId)
    .slice(0, UPDATE_LOOKBACK_ISSUES);
  const clustering = clusterStories(
    inWeek,
    config.clusterThreshold,
    earlier.flatMap((issue) => issue.stories),
  );
  const lastDay = civilDayOf(new Date(end.getTime() - 1), input.timeZone);
  const { engagementOf, engagementWhy } = engagementScoring(input, clustering);
  const context: ScoringContext = { config, weekStart: start, weekEnd: end, now: input.now, engagementOf };
  const continuations = findContinuations(earlier, clustering, lastDay);

  const notes: string[] = [];
  const inWeekIds = new Set(inWeek.map((s) => s.id));
  const overrides = [...input.overrides].sort(compareOverrides).filter((override) => {
    if (inWeekIds.has(override.storyId)) return true;
    notes.push(`${override.kind} of ${override.storyId} ignored: the story is not in ${input.week}`);
    return false;
  });

  const widest = Math.max(0, ...clustering.clusters.map((c) => c.outlets.length));
  const segments = input.segments.map((segment) =>
    selectForSegment(segment, clustering, overrides, continuations, context, engagementWhy, widest, lastDay),
  );
  return {
    week: input.week,
    timeZone: input.timeZone,
    weekStart: start,
    weekEnd: end,
    segments,
    notes,
    stats: { stories: input.stories.length, inWeek: inWeek.length, clusters: clustering.clusters.length },
  };
}

// Long: one pass of the per-segment selection; pins, drops, caps, diversity and fallbacks share its running picks and explanation, and splitting them would pass that state around.
function selectForSegment(
  segment: Segment,
  clustering: Clustering,
  allOverrides: readonly SelectionOverride[],
  continuations: ReadonlyMap<string, Continuation>,
  context: ScoringContext,
  engagementWhy: (story: Story, segmentName: string | null) => EngagementTerm | null,
  widest: number,
  lastDay: string,
): SegmentSelection {
  const { config } = context;
  const overrides = allOverrides.filter((o) => o.segmentId === null || o.segmentId === segment.id);
  const clusterIdOf = (storyId: string) => (clustering.clusterOf.get(storyId) as StoryCluster).id;
  const dropped = new Set(overrides.filter((o) => o.kind === 'drop').map((o) => clusterIdOf(o.storyId)));
  const boosts = new Map<string, number>();
  for (const o of overrides) {
    if (o.kind === 'boost')
      boosts.set(clusterIdOf(o.storyId), (boosts.get(clusterIdOf(o.storyId)) ?? 0) + (o.boost ?? 0));
  }
  const isTagged = (story: Story) => story.audiences.includes(segment.name);

  const entryOf = (cluster: StoryCluster, members: readonly Story[], segmentName: string | null): Entry => {
    const boost = boosts.get(cluster.id) ?? 0;
    const ranked = members
      .map((story) => ({ story, ...scoreFor(story, cluster, segmentName, boost, context) }))
      .sort(
        (a, b) =>
          b.score - a.score || timeOf(b.story) - timeOf(a.story) || compareIds(a.story.id, b.story.id),
      );
    const best = ranked[0] as Entry['members'][number];
    return { cluster, members: ranked, score: best.score, time: timeOf(best.story) };
  };

  const tagged: Entry[] = [];
  const passedOver = new Map<string, PassedOverStory>();
  const passOver = (entry: Entry, reason: string) => {
    const best = entry.members[0] as Entry['members'][number];
    const known = passedOver.get(entry.cluster.id);
    if (known) known.reasons.push(reason);
    else
      passedOver.set(entry.cluster.id, {
        story: best.story,
        clusterId: entry.cluster.id,
        score: best.score,
        reasons: [reason],
      });
  };
  let taggedCount = 0;
  for (const cluster of clustering.clusters) {
    const members = cluster.members.filter(isTagged);
    if (members.length === 0) continue;
    taggedCount++;
    const entry = entryOf(cluster, members, segment.name);
    const continuation = continuations.get(cluster.id);
    if (dropped.has(cluster.id)) passOver(entry, 'dropped by editor');
    else if (continuation && setAside(continuation))
      passOver(
        entry,
        `sent in the previous issue (${continuation.earlier.week}) as "${continuation.previous.title}", no new dated events since`,
      );
    else tagged.push(entry);
  }
  tagged.sort(compareEntries);

  const picked: SelectedStory[] = [];
  const perSource = new Map<string, number>();
  const taken = new Set<string>();
  const take = (
    entry: Entry,
    member: Entry['members'][number],
    fallback: boolean,
    reasons: string[],
    pinned = false,
  ) => {
    const continuation = continuations.get(entry.cluster.id);
    const cluster = entry.cluster;
    const story = member.story;
    const why = [...reasons];
    if (cluster.outlets.length > 1) why.push(`cluster of ${cluster.outlets.length} outlets`);
    else why.push('single outlet');
    const update = continuation ? updateOf(continuation, story, lastDay) : undefined;
    if (update) {
      const count = update.newEvents.length;
      why.push(
        `update of "${update.title}" (${update.week}): ${count === 0 ? 'no new dated events' : `${count} new timeline ${count === 1 ? 'event' : 'events'}`} since ${update.since}`,
      );
    }
    const boost = boosts.get(cluster.id);
    if (boost) why.push(`boosted by editor (${boost > 0 ? '+' : ''}${boost})`);
    if (member.breakdown.authority >= config.weights.authority * 0.8)
      why.push(`high-authority source (${story.source.name})`);
    const term = engagementWhy(story, isTagged(story) ? segment.name : null);
    if (term) why.push(...engagementReasons(term, config.weights.engagement, segment.name, story));
    const bestMember = entry.members[0] as Entry['members'][number];
    if (bestMember.story.id !== story.id && !pinned) {
      why.push(`shown from ${story.source.name}: source cap reached for ${bestMember.story.source.name}`);
    }
    picked.push({
      story,
      clusterId: cluster.id,
      score: member.score,
      fallback,
      pinned,
      alsoCoveredBy: cluster.outlets.filter((name) => name !== story.source.name),
      reasons: why,
      scoreBreakdown: member.breakdown,
      ...(update ? { update } : {}),
    });
    taken.add(cluster.id);
    perSource.set(story.source.name, (perSource.get(story.source.name) ?? 0) + 1);
  };

  // Pins first: the editor's word is final, within the week and short of a drop.
  const pins: Array<{ storyId: string; position: number }> = [];
  for (const pin of overrides.filter((o) => o.kind === 'pin')) {
    const cluster = clustering.clusterOf.get(pin.storyId) as StoryCluster;
    if (taken.has(cluster.id) || dropped.has(cluster.id)) continue;
    const story = cluster.members.find((m) => m.id === pin.storyId) as Story;
    if (pin.segmentId === null && !cluster.members.some(isTagged)) continue;
    const entry = entryOf(cluster, [story], isTagged(story) ? segment.name : null);
    const position = pin.position ?? 0;
    const reasons = [`pinned by editor at position ${position + 1}`];
    if (!isTagged(story)) reasons.push(`not tagged for ${segment.name}`);
    take(entry, entry.members[0] as Entry['members'][number], false, reasons, true);
    pins.push({ storyId: story.id, position });
  }

  if (taggedCount === 0 && picked.length === 0) {
    return {
      segment,
      skipped: true,
      skipReason: `no stories tagged for ${segment.name} this week`,
      stories: [],
      candidates: [],
    };
  }
  if (tagged.length === 0 && picked.length === 0) {
    return {
      segment,
      skipped: true,
      skipReason: `all ${taggedCount} events tagged for ${segment.name} were dropped by the editor or sent in the previous issue`,
      stories: [],
      candidates: [...passedOver.values()].slice(0, CANDIDATES_SHOWN),
    };
  }

  const cap = config.maxPerSource;
  const target = Math.max(config.storiesPerSegment, picked.length);
  // The week's most widely covered events lead every segment they are tagged for: coverage is the
  // strongest signal of importance, so a slightly higher relevance elsewhere must not push them out.
  if (widest >= 2) {
    for (const entry of tagged) {
      if (picked.length >= target) break;
      if (entry.cluster.outlets.length < widest || taken.has(entry.cluster.id)) continue;
      const member = entry.members.find((m) => (perSource.get(m.story.source.name) ?? 0) < cap);
      if (member) {
        take(entry, member, false, [
          `tagged for ${segment.name}`,
          `most widely covered event of the week (${widest} outlets)`,
        ]);
      }
    }
  }

  // Maximal Marginal Relevance: each step takes the entry with the best λ·score − (1−λ)·(similarity to
  // what is already picked), using the best member whose source is still under the cap.
  const lambda = config.mmrLambda;
  const capped = new Map<string, string[]>();
  const nearest = new Map<string, { title: string; similarity: number }>();
  while (picked.length < target) {
    let best: { entry: Entry; member: Entry['members'][number]; value: number } | null = null;
    for (const entry of tagged) {
      if (taken.has(entry.cluster.id) || capped.has(entry.cluster.id)) continue;
      if (best && lambda * entry.score <= best.value) break;
      const member = entry.members.find((m) => (perSource.get(m.story.source.name) ?? 0) < cap);
      if (!member) {
        capped.set(entry.cluster.id, [...new Set(entry.members.map((m) => m.story.source.name))]);
        continue;
      }
      let similarity = 0;
      let closest = '';
      for (const p of picked) {
        const s = clustering.similarity(member.story.id, p.story.id);
        if (s > similarity) {
          similarity = s;
          closest = p.story.title;
        }
      }
      if (similarity > 0) nearest.set(entry.cluster.id, { title: closest, similarity });
      else nearest.delete(entry.cluster.id);
      const value = lambda * member.score - (1 - lambda) * similarity;
      if (!best || value > best.value) best = { entry, member, value };
    }
    if (!best) break;
    take(best.entry, best.member, false, [`tagged for ${segment.name}`]);
  }

  const taggedPicked = picked.length;
  if (picked.length < config.minStoriesPerSegment) {
    const pool = clustering.clusters
      .filter((c) => !taken.has(c.id) && !dropped.has(c.id) && !c.members.some(isTagged))
      .filter((c) => {
        const continuation = continuations.get(c.id);
        return !continuation || !setAside(continuation);
      })
      .map((c) => entryOf(c, c.members, null))
      .sort(compareEntries);
    for (const entry of pool) {
      if (picked.length >= config.minStoriesPerSegment) break;
      const member = entry.members.find((m) => (perSource.get(m.story.source.name) ?? 0) < cap);
      if (!member) continue;
      take(entry, member, true, [
        `fallback: only ${taggedPicked} ${taggedPicked === 1 ? 'story' : 'stories'} for ${segment.name} this week`,
      ]);
    }
  }

  const lowestPicked = Math.min(...picked.filter((p) => !p.pinned && !p.fallback).map((p) => p.score));
  for (const [rank, entry] of tagged.entries()) {
    if (taken.has(entry.cluster.id)) continue;
    const sources = capped.get(entry.cluster.id);
    if (sources) passOver(entry, `source cap reached (${sources.join(', ')})`);
    else if (entry.score > lowestPicked && nearest.has(entry.cluster.id)) {
      const close = nearest.get(entry.cluster.id) as { title: string; similarity: number };
      passOver(
        entry,
        `passed over for variety: similar (${close.similarity.toFixed(2)}) to "${close.title}"`,
      );
    } else passOver(entry, `below the cut (rank ${rank + 1} of ${tagged.length})`);
  }

  return {
    segment,
    skipped: false,
    skipReason: null,
    stories: placePins(picked, pins),
    candidates: [...passedOver.values()]
      .sort((a, b) => b.score - a.score || compareIds(a.story.id, b.story.id))
      .slice(0, CANDIDATES_SHOWN),
  };
}

/**
 * The engagement part of a story for a segment (for scoring) and its per-feature shares (for the why),
 * from each segment's affinities computed once and each story's features computed once.
 */
function engagementScoring(input: SelectionInput, clustering: Clustering) {
  const features = new Map<string, StoryFeatures>();
  const featuresOf = (story: Story) => {
    let known = features.get(story.id);
    if (!known) {
      const names = clustering.nameWordsOf(story.id);
      known = names ? featuresFromNameWords(story, names) : storyFeatures(story);
      features.set(story.id, known);
    }
    return known;
  };
  const affinities = new Map<string, Map<string, FeatureAffinity> | null>();
  const affinitiesOf = (segmentName: string | null) => {
    if (segmentName === null) return null;
    let table = affinities.get(segmentName);
    if (table === undefined) {
      const data = input.engagement?.bySegment[segmentName];
      const computed = data ? segmentAffinities(data) : null;
      table = computed && computed.size > 0 ? computed : null;
      affinities.set(segmentName, table);
    }
    return table;
  };
  return {
    engagementOf(story: Story, segmentName: string | null): number {
      const table = affinitiesOf(segmentName);
      return table ? engagementPart(featuresOf(story), table) : 0;
    },
    engagementWhy(story: Story, segmentName: string | null): EngagementTerm | null {
      const table = affinitiesOf(segmentName);
      return table ? engagementTerm(featuresOf(story), table) : null;
    },
  };
}

/** The week's clusters that continue a story of the earlier issues (given newest first): the newest wins. */
function findContinuations(
  earlier: readonly EarlierIssue[],
  clustering: Clustering,
  lastDay: string,
): Map<string, Continuation> {
  const continuations = new Map<string, Continuation>();
  const clusterById = new Map(clustering.clusters.map((c) => [c.id, c]));
  earlier.forEach((issue, index) => {
    for (const previous of [...issue.stories].sort((a, b) => compareIds(a.id, b.id))) {
      for (const clusterId of clustering.matchesOf(previous.id)) {
        if (continuations.has(clusterId)) continue;
        const cluster = clusterById.get(clusterId) as StoryCluster;
        const newEvents = eventsAfter([previous, ...cluster.members], issue.sentOn, lastDay);
        continuations.set(clusterId, { earlier: issue, previous, latestIssue: index === 0, newEvents });
      }
    }
  });
  return continuations;
}

/**
 * A continuation of the latest issue's story with nothing new dated since it went out is a repeat: set
 * aside. Anything else that continues a recent story is shown as an update.
 */
function setAside(continuation: Continuation): boolean {
  return continuation.latestIssue && continuation.newEvents.length === 0;
}

/** The update a picked story carries: its own and the earlier story's new events first, else the cluster's. */
function updateOf(continuation: Continuation, story: Story, lastDay: string): StoryUpdate {
  const { earlier, previous } = continuation;
  const own = eventsAfter([story, previous], earlier.sentOn, lastDay);
  return {
    storyId: previous.id,
    issueId: earlier.issueId,
    week: earlier.week,
    title: previous.title,
    url: earlier.url,
    since: earlier.sentOn,
    newEvents: (own.length > 0 ? own : continuation.newEvents).slice(0, MAX_NEW_EVENTS),
  };
}

const dayPrefix = /^(\d{4}-\d{2}-\d{2})(?:$|T)/;

/**
 * Day-precise timeline events dated after `sentOn` and no later than `lastDay` (the week's last day),
 * oldest first, the same date and words once. Month-only dates ('2026-11') never count.
 */
function eventsAfter(stories: readonly Story[], sentOn: string, lastDay: string): TimelineEvent[] {
  const seen = new Set<string>();
  const events: TimelineEvent[] = [];
  for (const story of stories) {
    for (const event of story.timeline) {
      const day = dayPrefix.exec(event.date.trim())?.[1];
      if (!day || day <= sentOn || day > lastDay) continue;
      const key = `${day}\u0000${event.event.trim().toLowerCase()}`;
      if (seen.has(key)) continue;
      seen.add(key);
      events.push(event);
    }
  }
  return events.sort((a, b) => compareIds(a.date, b.date));
}

/** Non-pinned stories in score order; each pin then goes to its position (clamped to the end). */
function placePins(
  picked: readonly SelectedStory[],
  pins: ReadonlyArray<{ storyId: string; position: number }>,
): SelectedStory[] {
  // Shown best first (fallback after the segment's own stories), whatever order MMR took them in.
  const out = picked
    .filter((p) => !p.pinned)
    .sort(
      (a, b) =>
        Number(a.fallback) - Number(b.fallback) ||
        b.score - a.score ||
        timeOf(b.story) - timeOf(a.story) ||
        compareIds(a.story.id, b.story.id),
    );
  const byId = new Map(picked.map((p) => [p.story.id, p]));
  for (const pin of [...pins].sort((a, b) => a.position - b.position || compareIds(a.storyId, b.storyId))) {
    out.splice(Math.min(pin.position, out.length), 0, byId.get(pin.storyId) as SelectedStory);
  }
  return out;
}

function scoreFor(
  story: Story,
  cluster: StoryCluster,
  segmentName: string | null,
  boost: number,
  context: ScoringContext,
) {
  return scoreStory(story, cluster, segmentName, boost, context);
}

function timeOf(story: Story): number {
  return (story.publishedAt ?? story.collectedAt)?.getTime() ?? 0;
}

/** Score, then the more recent, then the smaller id: a total order, so ties never depend on input order. */
function compareEntries(a: Entry, b: Entry): number {
  return b.score - a.score || b.time - a.time || compareIds(a.cluster.id, b.cluster.id);
}

function compareOverrides(a: SelectionOverride, b: SelectionOverride): number {
  return (
    compareIds(a.kind, b.kind) ||
    (a.segmentId ?? -1) - (b.segmentId ?? -1) ||
    (a.position ?? -1) - (b.position ?? -1) ||
    compareIds(a.storyId, b.storyId)
  );
}
