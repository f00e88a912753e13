import type { Story } from '../stories/story.ts';
import type { StoryCluster } from './cluster-stories.ts';
import type { ScoreBreakdown } from './selection.ts';
import type { ScorePart, SelectionConfig } from './selection-config.ts';
import { authorityOf } from './source-authority.ts';

/** The parts of a score before weighting, each 0..1 (engagement −1..1). */
export type ScoreParts = Record<ScorePart, number>;

export interface ScoringContext {
  config: SelectionConfig;
  weekStart: Date;
  weekEnd: Date;
  now: Date;
  /** The story's engagement part for a segment, −1..1 (0: no history). */
  engagementOf(story: Story, segmentName: string | null): number;
}

/**
 * Scores a story for a segment (or for no segment: the overall ranking used by fallback, where relevance
 * is 0). score = Σ weight·part + boost; the breakdown holds each weighted part so they add up to the score.
 */
export function scoreStory(
  story: Story,
  cluster: StoryCluster,
  segmentName: string | null,
  boost: number,
  context: ScoringContext,
): { score: number; breakdown: ScoreBreakdown } {
  const parts = scoreParts(story, cluster, segmentName, context);
  const w = context.config.weights;
  const breakdown: ScoreBreakdown = {
    relevance: w.relevance * parts.relevance,
    coverage: w.coverage * parts.coverage,
    authority: w.authority * parts.authority,
    recency: w.recency * parts.recency,
    completeness: w.completeness * parts.completeness,
    engagement: w.engagement * parts.engagement,
    boost,
  };
  const score =
    breakdown.relevance +
    breakdown.coverage +
    breakdown.authority +
    breakdown.recency +
    breakdown.completeness +
    breakdown.engagement +
    breakdown.boost;
  return { score, breakdown };
}

export function scoreParts(
  story: Story,
  cluster: StoryCluster,
  segmentName: string | null,
  context: ScoringContext,
): ScoreParts {
  return {
    relevance: relevance(story, segmentName),
    coverage: 1 - 1 / Math.max(1, cluster.outlets.length),
    authority: authorityOf(story.source, context.config.authority, context.config.defaultAuthority),
    recency: recency(story, context),
    completeness: completeness(story),
    engagement: context.engagementOf(story, segmentName),
  };
}

/** 1 for a story written for this segment alone, less the more audiences it is tagged for; 0 untagged. */
function relevance(story: Story, segmentName: string | null): number {
  if (segmentName === null || !story.audiences.includes(segmentName)) return 0;
  return 1 / (1 + 0.25 * (story.audiences.length - 1));
}

/**
 * Linear from 1 (published at the reference moment) down to `recencyFloor` (published at the week's
 * start). The reference is `now`, clamped into the week, so a Monday story keeps most of its score.
 */
function recency(story: Story, context: ScoringContext): number {
  const start = context.weekStart.getTime();
  const end = context.weekEnd.getTime();
  const reference = Math.min(Math.max(context.now.getTime(), start), end);
  const time = (story.publishedAt ?? story.collectedAt)?.getTime() ?? start;
  const age = Math.max(0, reference - time);
  const fraction = Math.min(1, age / (end - start));
  return 1 - (1 - context.config.recencyFloor) * fraction;
}

/** Share of the seven enrichment parts present: three TL;DR lines, takeaways, implications, timeline, region. */
function completeness(story: Story): number {
  const present = [
    story.tldr.whatChanged,
    story.tldr.whyItMatters,
    story.tldr.whatToDoNext,
    story.keyTakeaways.length > 0,
    story.implications.length > 0,
    story.timeline.length > 0,
    story.region,
  ].filter(Boolean).length;
  return present / 7;
}
