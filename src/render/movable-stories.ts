import type { Edition } from '../issues/issue-content.ts';
import { isPinned, type RecapOutline } from './recap-outline.ts';

/** The stories of one section a reader's own order may move, in editorial order. */
export interface MovableSection {
  segmentSlug: string;
  storyIds: string[];
}

/**
 * The stories of an edition a personal order may reorder: per section, the compact cards after the
 * section's first story that the editor did not pin. The hero, each section's first (full) card and every
 * pinned story keep their place; a section with fewer than two movable stories is left out.
 */
export function movableStories(edition: Edition, outline: Pick<RecapOutline, 'sections'>): MovableSection[] {
  const pinned = new Set(
    edition.sections.flatMap((section) =>
      section.stories.filter((item) => isPinned(item)).map((item) => item.story.id),
    ),
  );
  return outline.sections
    .map((section) => ({
      segmentSlug: section.slug,
      storyIds: section.cards
        .filter((card, index) => index > 0 && card.compact && !pinned.has(card.storyId))
        .map((card) => card.storyId),
    }))
    .filter((section) => section.storyIds.length > 1);
}
