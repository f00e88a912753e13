import { editionFor, type IssueContent } from '../issues/issue-content.ts';
import { segmentSetFromKey } from '../stories/segment-set.ts';
import { type RecapOutline, recapOutline } from './recap-outline.ts';
import { distinctHeadlines } from './subject-line.ts';

/** An issue as the public archive shows it to a visitor: every edition it was sent as, in one page. */
export interface PublicIssue {
  week: string;
  /** "Nov 16 – 22, 2026". */
  weekRange: string;
  subject: string;
  /** The first headlines, hero first: what the archive list and the feed show. */
  leadHeadlines: string[];
  /** One sentence for search results and link previews. */
  description: string;
  /** Hero, a section per segment (slug for its anchor), what to watch, developing stories; no reading budget. */
  outline: RecapOutline;
}

const LEAD_HEADLINES = 3;

/**
 * The union of an issue's editions as sent: every story any edition carried (after each one's reading
 * budget), in one outline with a section per segment, each story shown once. Only stories a reader was
 * sent appear; nothing personal is in it. Pure and deterministic. `sentKeys`: the segment keys the issue
 * went out with; none gives an outline without stories.
 */
export function publicIssueOf(content: IssueContent, sentKeys: readonly string[]): PublicIssue {
  const sentStories = new Set<string>();
  const slugs = new Set<string>();
  for (const key of sentKeys) {
    const set = segmentSetFromKey(key);
    for (const slug of set.slugs) slugs.add(slug);
    const edition = editionFor(content, set.slugs);
    const outline = recapOutline(edition);
    const leftOut = new Set(outline.leftOut.map((item) => item.storyId));
    for (const item of [
      ...(edition.hero ? [edition.hero] : []),
      ...edition.sections.flatMap((section) => section.stories),
      ...edition.developing,
    ]) {
      if (!leftOut.has(item.story.id)) sentStories.add(item.story.id);
    }
  }
  const union = editionFor(content, [...slugs]);
  const shown = <T extends { story: { id: string } }>(item: T) => sentStories.has(item.story.id);
  const outline = recapOutline(
    {
      ...union,
      hero: union.hero && shown(union.hero) ? union.hero : null,
      sections: union.sections
        .map((section) => ({ ...section, stories: section.stories.filter(shown) }))
        .filter((section) => section.stories.length > 0),
      developing: union.developing.filter(shown),
    },
    { readingBudget: false },
  );
  const headlines = distinctHeadlines([
    outline.hero?.title,
    ...outline.sections.flatMap((section) => section.cards.map((card) => card.title)),
  ]);
  const leadHeadlines = headlines.slice(0, LEAD_HEADLINES);
  return {
    week: content.week,
    weekRange: outline.weekRange,
    subject: outline.subject,
    leadHeadlines,
    description:
      leadHeadlines.length > 0
        ? `The AI news of ${outline.weekRange}: ${leadHeadlines.join('; ')}.`
        : `The AI news of ${outline.weekRange}.`,
    outline,
  };
}
