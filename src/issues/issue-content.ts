import { type LinkPositionScheme, linkPositionsOf } from '../render/issue-links.ts';
import type { Segment } from '../stories/segment.ts';
import { segmentSetOf } from '../stories/segment-set.ts';
import type { Story, TimelineEvent } from '../stories/story.ts';
import type { IssueWriting } from './issue-writing.ts';
import type { SubjectVariantText } from './subject-variants.ts';

/** A story as picked for one segment of an issue, with the explanation of the pick. */
export interface IssueStory {
  story: Story;
  score: number;
  fallback: boolean;
  /** Source names of the other outlets that covered the same event. */
  alsoCoveredBy: string[];
  reasons: string[];
  scoreBreakdown: Record<string, number>;
  /** The same-event cluster this story represents; an edition never shows one cluster twice. */
  clusterId?: string | null;
  /** Set when the story continues one sent in the last four issues: shown as "Update: …". */
  update?: IssueStoryUpdate;
}

/**
 * What an update continues: the earlier story (`storyId`, `title`) sent in issue `issueId` of `week`,
 * the earlier coverage's link (`url`: that issue's archive page) and the day-precise timeline events
 * dated after the earlier send (`since`, a civil day), oldest first (may be empty for a continuation of
 * an issue older than the previous one).
 */
export interface IssueStoryUpdate {
  storyId: string;
  issueId: number;
  week: string;
  title: string;
  url: string;
  since?: string;
  newEvents: TimelineEvent[];
}

export interface IssueSection {
  segment: Segment;
  /** True when the segment had nothing to send this week; `skipReason` says why. */
  skipped: boolean;
  skipReason: string | null;
  stories: IssueStory[];
}

/** A story from an earlier week whose timeline gained an event during this week. */
export interface DevelopingStory {
  story: Story;
  event: TimelineEvent;
}

/** Everything a week's issue contains, for every segment: what the renderer and the preview receive. */
export interface IssueContent {
  issueId: number;
  week: string;
  /** Monday 00:00 of the week in `timeZone`, as an instant. */
  weekStart: Date;
  /** The instant the next week starts (exclusive end). */
  weekEnd: Date;
  timeZone: string;
  sections: IssueSection[];
  developing: DevelopingStory[];
  /**
   * How the issue numbers its links (see LinkPositionScheme). Absent: 'indexed'; a stored snapshot
   * without it was taken before, so `contentFromSnapshot` reads it as 'hashed'.
   */
  linkPositions?: LinkPositionScheme;
  /** The editor's note, subject and preheader (absent: none written, as in snapshots taken before). */
  writing?: IssueWriting;
  /** Variants B and C of the subject for a subject test (absent or empty: no test). */
  subjectVariants?: SubjectVariantText[];
}

/** What one subscriber receives: the issue narrowed to their segments, no story twice. */
export interface Edition {
  issueId: number;
  week: string;
  weekStart: Date;
  weekEnd: Date;
  timeZone: string;
  /** Sorted segment slugs: the key under which an edition is rendered once and shared. */
  segmentKey: string;
  segments: Segment[];
  hero: IssueStory | null;
  sections: Array<{ segment: Segment; stories: IssueStory[] }>;
  developing: DevelopingStory[];
  /** Every link's issue-wide position, by URL: the click tokens of any edition resolve through the issue's registry. */
  linkPositions: ReadonlyMap<string, number>;
  /** The issue's note, subject and preheader: the same for every segment set. */
  writing?: IssueWriting;
}

export function segmentKeyOf(slugs: readonly string[]): string {
  return segmentSetOf(slugs).key;
}

/**
 * Narrows an issue to a set of segments: the best story overall becomes the hero, then each followed
 * segment in issue order keeps its stories not already shown (neither the story nor another story of
 * the same event cluster). Pure and deterministic.
 */
export function editionFor(content: IssueContent, segmentSlugs: readonly string[]): Edition {
  const wanted = new Set(segmentSlugs);
  const followed = content.sections.filter((section) => wanted.has(section.segment.slug) && !section.skipped);
  let hero: IssueStory | null = null;
  for (const section of followed) {
    const first = section.stories[0];
    if (first && (!hero || first.score > hero.score)) hero = first;
  }
  const shownStories = new Set<string>();
  const shownClusters = new Set<string>();
  const show = (item: IssueStory) => {
    shownStories.add(item.story.id);
    if (item.clusterId) shownClusters.add(item.clusterId);
  };
  const isShown = (item: IssueStory) =>
    shownStories.has(item.story.id) || (item.clusterId ? shownClusters.has(item.clusterId) : false);
  if (hero) show(hero);
  const sections = followed
    .map((section) => {
      const stories = section.stories.filter((item) => !isShown(item));
      for (const item of stories) show(item);
      return { segment: section.segment, stories };
    })
    .filter((section) => section.stories.length > 0);
  return {
    issueId: content.issueId,
    week: content.week,
    weekStart: content.weekStart,
    weekEnd: content.weekEnd,
    timeZone: content.timeZone,
    segmentKey: segmentKeyOf(followed.map((s) => s.segment.slug)),
    segments: followed.map((s) => s.segment),
    hero,
    sections,
    developing: content.developing,
    linkPositions: linkPositionsOf(content),
    ...(content.writing ? { writing: content.writing } : {}),
  };
}
