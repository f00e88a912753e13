import type { Segment } from '../stories/segment.ts';
import type { Story } from '../stories/story.ts';
import type { SelectionConfig } from './selection-config.ts';

/** An editor's decision about one story for a week; `segmentId` null means every segment. */
export interface SelectionOverride {
  kind: 'pin' | 'drop' | 'boost';
  storyId: string;
  segmentId: number | null;
  /** Pins only: 0-based place in the segment's list; null puts it first. */
  position: number | null;
  /** Boosts only: added to the score. */
  boost: number | null;
}

/** Past clicks, as counts: per source name and per audience segment name. */
export interface Engagement {
  bySource: Readonly<Record<string, number>>;
  byAudience: Readonly<Record<string, number>>;
}

/** Everything selection depends on: no database, no environment, the clock passed in as `now`. */
export interface SelectionInput {
  /** ISO week, "2026-W48". */
  week: string;
  timeZone: string;
  now: Date;
  /** The sections to produce, in order. */
  segments: readonly Segment[];
  /** Candidate stories; any outside the week are ignored. */
  stories: readonly Story[];
  /** The previous issue: its week and the stories it carried (with their current timelines). */
  previous: { week: string; stories: readonly Story[] } | null;
  overrides: readonly SelectionOverride[];
  engagement: Engagement | null;
  config: SelectionConfig;
}

/** Weighted contributions of each part; they add up to the score. */
export type ScoreBreakdown = Record<ScorePart, number>;
export type ScorePart =
  | 'relevance'
  | 'coverage'
  | 'authority'
  | 'recency'
  | 'completeness'
  | 'engagement'
  | 'boost';

export interface SelectedStory {
  story: Story;
  clusterId: string;
  score: number;
  fallback: boolean;
  pinned: boolean;
  /** Source names of the other outlets that reported the same event. */
  alsoCoveredBy: string[];
  reasons: string[];
  scoreBreakdown: ScoreBreakdown;
}

/** A story that competed for a segment and was not picked, with why. */
export interface PassedOverStory {
  story: Story;
  clusterId: string;
  score: number;
  reasons: string[];
}

export interface SegmentSelection {
  segment: Segment;
  skipped: boolean;
  skipReason: string | null;
  stories: SelectedStory[];
  /** The best few that were not picked, best first. */
  candidates: PassedOverStory[];
}

export interface Selection {
  week: string;
  timeZone: string;
  weekStart: Date;
  weekEnd: Date;
  segments: SegmentSelection[];
  /** Things the editor should know: overrides that could not apply, and why. */
  notes: string[];
  stats: { stories: number; inWeek: number; clusters: number };
}
