import type { Segment } from '../stories/segment.ts';
import type { Story, TimelineEvent } from '../stories/story.ts';
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

/**
 * What one segment's readers did with the stories of one feature (a `storyFeatures` key such as
 * "source:reuters" or "name:nimbus5") shown to them in the recent issues: how many copies carried such
 * stories, and the human clicks (distinct readers per story), "more like this" and "less like this" votes.
 */
export interface FeatureCounts {
  exposure: number;
  clicks: number;
  more: number;
  less: number;
}

/** One segment's history: per feature key, and the totals over its stories (its average). */
export interface SegmentEngagement {
  features: Readonly<Record<string, FeatureCounts>>;
  total: FeatureCounts;
}

/** Past engagement per segment name (src/selection/engagement-term.ts turns it into a score part). */
export interface Engagement {
  bySegment: Readonly<Record<string, SegmentEngagement>>;
}

/** An issue sent before this week: continuations of its stories become updates (or are set aside). */
export interface EarlierIssue {
  issueId: number;
  week: string;
  /** The civil day the issue went out, "2026-11-30": timeline events dated after it are new. */
  sentOn: string;
  /** The earlier coverage readers are sent to (the issue's archive page). */
  url: string;
  /** The stories it carried, with their current timelines. */
  stories: readonly Story[];
}

/** A pick that continues a story sent in one of the recent issues (src/issues/issue-content.ts's `update`). */
export interface StoryUpdate {
  /** The earlier story. */
  storyId: string;
  issueId: number;
  week: string;
  title: string;
  url: string;
  /** The civil day of the earlier send. */
  since: string;
  /** Day-precise timeline events dated after the earlier send, oldest first. */
  newEvents: TimelineEvent[];
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
  /** The recent issues that went out, newest first (at most four are read): updates and repeats. */
  earlier: readonly EarlierIssue[];
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
  /** Set when the story continues one sent in a recent issue: shown as "Update: …". */
  update?: StoryUpdate;
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
