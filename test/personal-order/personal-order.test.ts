import { describe, expect, it } from 'vitest';
import {
  boundedOrder,
  type HistoryEvent,
  MAX_SHIFT,
  type OrderableSection,
  personalOrder,
  readerTaste,
} from '../../src/personal-order/personal-order.ts';

const story = (id: string, source: string, topics: string[] = [], updateOf?: string) => ({
  id,
  features: { source: `source:${source}`, topics: topics.map((t) => `name:${t}`) },
  ...(updateOf ? { updateOf } : {}),
});

const section: OrderableSection = {
  stories: [
    story('a', 'reuters', ['openai']),
    story('b', 'verge', ['nvidia']),
    story('c', 'reuters', ['anthropic']),
    story('d', 'wired', ['mistral']),
    story('e', 'verge', ['nvidia', 'tsmc']),
    story('f', 'wired', ['google']),
  ],
};

/**
 * `n` issues in which the reader was shown a story of (source, topic) and three others, and clicked only
 * the first: a reader who clicks that source and topic four times as often as the rest.
 */
const clicks = (source: string, topic: string, n: number, age = 0): HistoryEvent[] =>
  Array.from({ length: n }, (_, i) => {
    const liked = { source: `source:${source}`, topics: [`name:${topic}`] };
    const others = [1, 2, 3].map((k) => ({ source: `source:other-${k}`, topics: [`name:other-${i}-${k}`] }));
    return [
      { storyId: `old-${source}-${topic}-${i}`, features: liked, action: 'shown' as const, age },
      { storyId: `old-${source}-${topic}-${i}`, features: liked, action: 'click' as const, age },
      ...others.map((features, k) => ({
        storyId: `other-${i}-${k}`,
        features,
        action: 'shown' as const,
        age,
      })),
    ];
  }).flat();

/** Where each story of `ids` ends up in `order` against its editorial index. */
function shifts(order: readonly string[], ids: readonly string[]): number[] {
  return ids.map((id, index) => Math.abs(order.indexOf(id) - index));
}

describe('personal order model', () => {
  it('gives no order without history', () => {
    expect(personalOrder([], [section])).toBeNull();
  });

  it('gives no order when the history changes nothing (order equal to editorial)', () => {
    // A liking for the editorial top story's source only confirms the editorial order.
    expect(
      personalOrder(clicks('reuters', 'openai', 1), [{ stories: section.stories.slice(0, 2) }]),
    ).toBeNull();
  });

  it('moves the stories of a source the reader clicks up, and of one they said "less" about down', () => {
    const order = personalOrder(clicks('wired', 'mistral', 4), [section]);
    expect(order).not.toBeNull();
    expect(order?.indexOf('d')).toBeLessThan(3);
    expect(order?.indexOf('f')).toBeLessThan(5);
    const less: HistoryEvent[] = [
      { storyId: 'x', features: { source: 'source:reuters', topics: [] }, action: 'less', age: 0 },
    ];
    const down = personalOrder(less, [section]);
    expect(down?.indexOf('a')).toBeGreaterThan(0);
  });

  it('orders two readers with different histories differently, over the same stories', () => {
    const one = personalOrder(clicks('wired', 'mistral', 3), [section]);
    const two = personalOrder(clicks('verge', 'nvidia', 3), [section]);
    expect(one).not.toEqual(two);
    expect([...(one ?? [])].sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect([...(two ?? [])].sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('keeps every story within MAX_SHIFT places of its editorial place, for any scores', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let trial = 0; trial < 500; trial++) {
      const n = 2 + Math.floor(random() * 12);
      const keys = Array.from({ length: n }, (_, i) => i - 20 * (random() - 0.5) * (random() < 0.3 ? 10 : 1));
      const order = boundedOrder(keys);
      expect([...order].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
      for (const [place, index] of order.entries())
        expect(Math.abs(index - place)).toBeLessThanOrEqual(MAX_SHIFT);
    }
    // The strongest possible pull still moves the last of ten stories only three places up.
    const keys = Array.from({ length: 10 }, (_, i) => (i === 9 ? Number.NEGATIVE_INFINITY : i));
    expect(boundedOrder(keys).indexOf(9)).toBe(9 - MAX_SHIFT);
    const order = personalOrder(clicks('wired', 'google', 50), [section]) ?? [];
    expect(
      Math.max(
        ...shifts(
          order,
          section.stories.map((s) => s.id),
        ),
      ),
    ).toBeLessThanOrEqual(MAX_SHIFT);
  });

  it('keeps the editorial order for equal scores', () => {
    expect(boundedOrder([0, 0, 0, 0, 0])).toEqual([0, 1, 2, 3, 4]);
    expect(boundedOrder([1, 0, 0, 0])).toEqual([1, 2, 3, 0]);
  });

  it('puts an update first in its section when the reader clicked the story it continues', () => {
    const withUpdate: OrderableSection = {
      stories: [...section.stories.slice(0, 3), story('u', 'verge', ['nvidia'], 'earlier-story')],
    };
    const clicked: HistoryEvent[] = [
      { storyId: 'earlier-story', features: { source: 'source:wired', topics: [] }, action: 'click', age: 2 },
    ];
    expect(personalOrder(clicked, [withUpdate])?.[0]).toBe('u');
    // Further down than the bound reaches, it still leads the section; the rest keep their set.
    const far: OrderableSection = {
      stories: [
        ...['a', 'b', 'c', 'd', 'e', 'f'].map((id) => story(id, 'verge')),
        story('u', 'verge', ['nvidia'], 'earlier-story'),
      ],
    };
    const farOrder = personalOrder(clicked, [far]);
    expect(farOrder?.[0]).toBe('u');
    expect([...(farOrder ?? [])].sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'u']);
    // Another reader, who never clicked the earlier story, keeps it where the editor put it.
    const other = personalOrder(clicks('wired', 'x', 1), [withUpdate]);
    expect(other === null || other.indexOf('u') === 3).toBe(true);
  });

  it('weighs recent issues more than old ones, and votes more than clicks', () => {
    const recent = readerTaste([...clicks('wired', 'a', 1, 0), ...clicks('verge', 'b', 1, 5)]);
    expect(recent.affinity.get('source:wired')).toBeGreaterThan(recent.affinity.get('source:verge') ?? 0);
    const voted = readerTaste([
      ...clicks('wired', 'a', 1),
      { storyId: 'v', features: { source: 'source:verge', topics: [] }, action: 'more', age: 0 },
    ]);
    expect(voted.affinity.get('source:verge')).toBeGreaterThan(voted.affinity.get('source:wired') ?? 0);
  });

  it('is deterministic and keeps sections apart', () => {
    const second: OrderableSection = {
      stories: [story('g', 'verge'), story('h', 'wired'), story('i', 'wired')],
    };
    const history = clicks('wired', 'google', 3);
    const first = personalOrder(history, [section, second]);
    expect(personalOrder(history, [section, second])).toEqual(first);
    expect(first?.slice(0, 6).sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(first?.slice(6).sort()).toEqual(['g', 'h', 'i']);
  });
});
