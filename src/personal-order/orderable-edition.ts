import type { Edition, IssueStory } from '../issues/issue-content.ts';
import type { MovableSection } from '../render/movable-stories.ts';
import { storyFeatures } from '../selection/story-features.ts';
import type { OrderableSection } from './personal-order.ts';

/** The earlier story an update continues; read defensively (an issue stored before updates has none). */
function updateOf(item: IssueStory): string | null {
  const update = (item as { update?: { storyId?: unknown } | null }).update;
  return update && typeof update.storyId === 'string' ? update.storyId : null;
}

/**
 * The movable sections of a rendered edition (EditionTemplate.movable) with each story's features, as
 * the personal-order model reads them. A movable id the edition does not hold is left out. Pure.
 */
export function orderableSections(edition: Edition, movable: readonly MovableSection[]): OrderableSection[] {
  const items = new Map<string, IssueStory>();
  for (const section of edition.sections) for (const item of section.stories) items.set(item.story.id, item);
  return movable
    .map((section) => ({
      stories: section.storyIds.flatMap((id) => {
        const item = items.get(id);
        return item ? [{ id, features: storyFeatures(item.story), updateOf: updateOf(item) }] : [];
      }),
    }))
    .filter((section) => section.stories.length > 1);
}
