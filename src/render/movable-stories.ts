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

/**
 * A section's stories in one reader's order: the section's movable stories named by `order` come first
 * among the movable places, in the order given (unknown ids and repeats ignored), then its other movable
 * stories in editorial order. Returns the movable ids in their new order, or null when that is the
 * editorial order. Pure; never drops or adds a story.
 */
export function orderedMovable(movable: readonly string[], order: readonly string[]): string[] | null {
  const wanted = order.filter((id, index) => movable.includes(id) && order.indexOf(id) === index);
  const result = [...wanted, ...movable.filter((id) => !wanted.includes(id))];
  return result.every((id, index) => id === movable[index]) ? null : result;
}

/**
 * The outline as one reader's order arranges it: in each section with movable stories, the movable
 * cards take the movable places in `orderedMovable`'s order; the hero, each section's first card and
 * every pinned card keep their place. `urls` (the link slots) stay as they were. The reference the
 * template's block reordering must equal; a null or empty order returns the outline itself.
 */
export function orderOutline<T extends Pick<RecapOutline, 'sections'>>(
  outline: T,
  movable: readonly MovableSection[],
  order: readonly string[] | null | undefined,
): T {
  if (!order || order.length === 0) return outline;
  let changed = false;
  const sections = outline.sections.map((section) => {
    const ids = movable.find((entry) => entry.segmentSlug === section.slug)?.storyIds;
    const arranged = ids ? orderedMovable(ids, order) : null;
    if (!ids || !arranged) return section;
    changed = true;
    const byId = new Map(section.cards.map((card) => [card.storyId, card]));
    let next = 0;
    const cards = section.cards.map((card) =>
      ids.includes(card.storyId) ? (byId.get(arranged[next++] as string) ?? card) : card,
    );
    return { ...section, cards };
  });
  return changed ? { ...outline, sections } : outline;
}

/**
 * Where a section's story blocks start in the template: the index of its first movable card. Every card
 * from there to the end of the section is one block (a movable story or a pinned one that stays), so a
 * block boundary is marked before each of those cards and after the last. Keyed by section slug; sections
 * without movable stories have no entry.
 */
export function blockRuns(
  outline: Pick<RecapOutline, 'sections'>,
  movable: readonly MovableSection[],
): Map<string, number> {
  const runs = new Map<string, number>();
  for (const entry of movable) {
    const section = outline.sections.find((candidate) => candidate.slug === entry.segmentSlug);
    const start = section?.cards.findIndex((card) => entry.storyIds.includes(card.storyId)) ?? -1;
    if (start > 0) runs.set(entry.segmentSlug, start);
  }
  return runs;
}
