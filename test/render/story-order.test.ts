import { describe, expect, it } from 'vitest';
import { demoFrame, demoIssue, demoStories } from '../../emails/fixtures/demo-edition.ts';
import { editionFor } from '../../src/issues/issue-content.ts';
import { createEditionRenderer } from '../../src/render/edition-renderer.ts';
import { escapeHtml } from '../../src/render/html-escape.ts';
import { movableStories, orderedMovable, orderOutline } from '../../src/render/movable-stories.ts';
import { wrap } from '../../src/render/plain-text.ts';
import { recapOutline } from '../../src/render/recap-outline.ts';
import type { Recipient } from '../../src/render/rendered-message.ts';
import { orderedEdition, orderedIssue } from '../support/ordered-edition.ts';

const secrets = { current: 'a-test-secret-that-is-long-enough-0123456789', previous: [] };
const renderer = createEditionRenderer({ frame: demoFrame, secrets, trackingEnabled: true, honeypot: true });
const anna: Recipient = { subscriberId: '7', email: 'anna@example.com', name: 'Anna', trackingEnabled: true };

/** The stories in the order their card titles appear: linked in the HTML, on lines of their own in the text. */
function titleOrder(content: string, titles: Map<string, string>, part: 'html' | 'text'): string[] {
  return [...titles.entries()]
    .map(([id, title]) => ({
      id,
      at: content.indexOf(part === 'html' ? `>${escapeHtml(title)}</a>` : `\n${wrap(title)}\n`),
    }))
    .filter((entry) => entry.at >= 0)
    .sort((a, b) => a.at - b.at)
    .map((entry) => entry.id);
}

/** Open and close tags of the table structure, checked for nesting. */
function balanced(html: string): boolean {
  const stack: string[] = [];
  for (const match of html.matchAll(/<(\/?)(table|tbody|tr|td|div|p|h[1-3])\b[^>]*>/g)) {
    const [, closing, name] = match as unknown as [string, string, string];
    if (!closing) stack.push(name);
    else if (stack.pop() !== name) return false;
  }
  return stack.length === 0;
}

describe("a reader's own order of the movable stories", () => {
  it('puts the named stories first among the movable places, the others after them in editorial order', () => {
    const movable = ['a', 'b', 'c', 'd'];
    expect(orderedMovable(movable, ['c', 'a'])).toEqual(['c', 'a', 'b', 'd']);
    expect(orderedMovable(movable, ['x', 'd', 'd', 'y', 'b'])).toEqual(['d', 'b', 'a', 'c']);
    expect(orderedMovable(movable, ['a', 'b'])).toBeNull();
    expect(orderedMovable(movable, ['zzz'])).toBeNull();
    expect(orderedMovable(movable, [])).toBeNull();
  });

  it('moves only the movable cards: hero, first cards and the pinned card keep their places', () => {
    const edition = orderedEdition();
    const outline = recapOutline(edition, {});
    const movable = movableStories(edition, outline);
    const ids = movable.flatMap((section) => section.storyIds);
    const reordered = orderOutline(outline, movable, [...ids].reverse());
    const cardsOf = (o: typeof outline) =>
      o.sections.map((section) => section.cards.map((card) => card.storyId));
    const before = cardsOf(outline);
    const after = cardsOf(reordered);
    expect(after.map((ids) => [...ids].sort())).toEqual(before.map((ids) => [...ids].sort()));
    expect(after).not.toEqual(before);
    before.forEach((cards, s) => {
      const still = new Set(movable[s]?.storyIds ?? []);
      cards.forEach((id, place) => {
        if (!still.has(id)) expect(after[s]?.[place]).toBe(id);
      });
    });
    expect(reordered.hero).toBe(outline.hero);
  });

  it('reorders the story blocks of the HTML and the text, keeping every story and the markup whole', () => {
    const edition = orderedEdition();
    const template = renderer.template(edition);
    const outline = recapOutline(edition, {});
    const titles = new Map(
      [outline.hero, ...outline.sections.flatMap((section) => section.cards)].flatMap((card) =>
        card ? [[card.storyId, card.title] as [string, string]] : [],
      ),
    );
    expect(template.movable).toEqual([
      {
        segmentSlug: 'founders-product-leaders',
        storyIds: ['inference-prices-fall', 'seed-rounds-ai-share', 'small-models-on-device', 'extra-2'],
      },
      {
        segmentSlug: 'engineers-developers',
        storyIds: ['agents-browser-security', 'eval-harness-release', 'extra-1'],
      },
    ]);
    const order = [
      'extra-1',
      'extra-2',
      'not-in-this-edition',
      'small-models-on-device',
      'eval-harness-release',
    ];
    const editorial = renderer.personalise(template, anna);
    const personal = renderer.personalise(template, anna, order);
    const expected = [
      'scmp-hk-ai-beyond-us-china-rivalry',
      'eu-ai-act-gpai-code',
      'extra-2',
      'small-models-on-device',
      'inference-prices-fall',
      'seed-rounds-ai-share',
      'open-weights-coder-model',
      'extra-1',
      'extra-0',
      'eval-harness-release',
      'agents-browser-security',
    ];
    expect(titleOrder(editorial.html, titles, 'html')).toEqual([
      'scmp-hk-ai-beyond-us-china-rivalry',
      'eu-ai-act-gpai-code',
      'inference-prices-fall',
      'seed-rounds-ai-share',
      'small-models-on-device',
      'extra-2',
      'open-weights-coder-model',
      'agents-browser-security',
      'extra-0',
      'eval-harness-release',
      'extra-1',
    ]);
    expect(titleOrder(editorial.text, titles, 'text')).toEqual(titleOrder(editorial.html, titles, 'html'));
    expect(titleOrder(personal.html, titles, 'html')).toEqual(expected);
    expect(titleOrder(personal.text, titles, 'text')).toEqual(expected);
    // Same bytes, other order: nothing lost, nothing added, the markup still nests.
    expect(personal.html.length).toBe(editorial.html.length);
    expect(personal.text.length).toBe(editorial.text.length);
    expect([...personal.html].sort().join('')).toBe([...editorial.html].sort().join(''));
    expect(balanced(editorial.html)).toBe(true);
    expect(balanced(personal.html)).toBe(true);
    expect(personal.text).toContain('\n\n· · ·\n\nExtra story 1\n');
    expect(personal.text).not.toMatch(/· · ·\n\n· · ·|\n\n\n/);
    expect(personal.parts?.html.sequence).toBeInstanceOf(Uint32Array);
  });

  it('gives the editorial copy byte for byte when the order is the editorial one, empty or unknown', () => {
    const template = renderer.template(orderedEdition());
    const editorial = renderer.personalise(template, anna);
    const ids = template.movable.flatMap((section) => section.storyIds);
    for (const order of [ids, ids.slice(0, 2), [], ['nothing-like-it'], null]) {
      const copy = renderer.personalise(template, anna, order);
      expect(copy).toEqual(editorial);
      expect(copy.parts?.html.sequence).toBeUndefined();
      expect(copy.parts?.text.sequence).toBeUndefined();
    }
  });

  it('keeps a pinned card before the run in place and leaves an edition without movable stories as it is', () => {
    const engineers = editionFor(orderedIssue(), ['engineers-developers']);
    const template = renderer.template(engineers);
    expect(template.movable).toEqual([
      {
        segmentSlug: 'engineers-developers',
        storyIds: ['small-models-on-device', 'eval-harness-release', 'extra-1', 'extra-2'],
      },
    ]);
    const order = ['extra-2', 'small-models-on-device', 'extra-1'];
    const copy = renderer.personalise(template, anna, order);
    expect(copy).toEqual(renderer.renderFor(engineers, anna, order));
    const cards = copy.text.split('\n\n· · ·\n\n').map((block) => block.split('\n')[0]);
    expect(cards.slice(1)).toEqual([
      'Extra story 0',
      'Extra story 2',
      'On-device models now handle most smartphone assistant requests,',
      'Extra story 1',
      expect.stringMatching(/^Open evaluation harness/),
    ]);

    // Hero and a section of two cards: nothing a reader's order may move.
    const small = editionFor(demoIssue(demoStories().slice(0, 4)), ['founders-product-leaders']);
    const alone = renderer.template(small);
    expect(alone.movable).toEqual([]);
    expect(
      renderer.personalise(
        alone,
        anna,
        [...(small.sections[0]?.stories ?? [])].reverse().map((item) => item.story.id),
      ),
    ).toEqual(renderer.personalise(alone, anna));
  });
});
