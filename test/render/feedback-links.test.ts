import { describe, expect, it } from 'vitest';
import { demoEdition, demoFrame, demoIssue } from '../../emails/fixtures/demo-edition.ts';
import { createEditionRenderer } from '../../src/render/edition-renderer.ts';
import { issueLinks } from '../../src/render/issue-links.ts';
import { movableStories, orderOutline } from '../../src/render/movable-stories.ts';
import { recapOutline } from '../../src/render/recap-outline.ts';
import type { Recipient } from '../../src/render/rendered-message.ts';
import { verifyFeedbackToken } from '../../src/tracking/token.ts';
import { orderedEdition, orderedIssue } from '../support/ordered-edition.ts';

const secrets = { current: 'a-feedback-secret-that-is-long-enough-0123', previous: [] };
const readers = createEditionRenderer({ frame: demoFrame, secrets, trackingEnabled: true, feedback: true });
const tests = createEditionRenderer({ frame: demoFrame, secrets, trackingEnabled: true });

const tracked: Recipient = {
  subscriberId: '7',
  email: 'anna@example.com',
  name: 'Anna',
  trackingEnabled: true,
};
const untracked: Recipient = {
  subscriberId: '8',
  email: 'bob@example.com',
  name: null,
  trackingEnabled: false,
};

const feedbackTokens = (text: string) =>
  [...text.matchAll(/https:\/\/recap\.example\.com\/f\/([A-Za-z0-9._-]+)/g)].map((match) => match[1] ?? '');

describe('feedback links in the mail', () => {
  it('put More / Less like this under every story card (hero, full, compact) and three ratings at the end', () => {
    const edition = demoEdition();
    const outline = recapOutline(edition, { extraCuts: 0 });
    const registry = issueLinks(demoIssue());
    const storyOfPosition = new Map(
      registry.filter((link) => link.kind === 'story').map((link) => [link.position, link.storyId]),
    );
    const cards = [outline.hero, ...outline.sections.flatMap((s) => s.cards)].filter((c) => c !== null);
    expect(cards.some((card) => card.compact)).toBe(true);
    for (const reader of [tracked, untracked]) {
      const copy = readers.personalise(readers.template(edition), reader);
      const payloads = feedbackTokens(copy.html).map((token) => verifyFeedbackToken(secrets, token));
      expect(payloads.every((p) => p !== null && p.subscriberId === reader.subscriberId)).toBe(true);
      expect(payloads.every((p) => p?.issueId === edition.issueId)).toBe(true);
      const votes = payloads.filter((p) => p?.kind === 'story');
      const voted = new Set(votes.map((p) => (p?.kind === 'story' ? storyOfPosition.get(p.link) : null)));
      // Every card of the copy, by the registry's story of its own link.
      expect(voted).toEqual(new Set(cards.map((card) => card.storyId)));
      expect(votes.filter((p) => p?.kind === 'story' && p.choice === 'more')).toHaveLength(cards.length);
      expect(votes.filter((p) => p?.kind === 'story' && p.choice === 'less')).toHaveLength(cards.length);
      expect(
        payloads.filter((p) => p?.kind === 'rating').map((p) => p?.kind === 'rating' && p.rating),
      ).toEqual([1, 2, 3]);
      expect(copy.html).toContain('>More like this</a>');
      expect(copy.html).toContain('How was this issue?');
      // The plain-text part carries the same links, each on a line of its own.
      expect(feedbackTokens(copy.text).sort()).toEqual(feedbackTokens(copy.html).sort());
      expect(copy.text).toMatch(
        /\nMore like this:\nhttps:\/\/recap\.example\.com\/f\/\S+\nLess like this:\n/,
      );
      expect(copy.text).toMatch(/\nHow was this issue\?\nNot useful:\n\S+\nOK:\n\S+\nGreat:\n\S+\n/);
    }
  });

  it('are exactly what a full render gives each reader, tracked or not', () => {
    const edition = demoEdition();
    const template = readers.template(edition);
    for (const reader of [tracked, untracked]) {
      const personalised = readers.personalise(template, reader);
      const direct = readers.renderFor(edition, reader);
      expect(personalised.html).toBe(direct.html);
      expect(personalised.text).toBe(direct.text);
    }
  });

  it("move with their story in a reader's own order, and equal a full render of that order", () => {
    const edition = orderedEdition();
    const template = readers.template(edition);
    const outline = recapOutline(edition, {});
    const movable = movableStories(edition, outline);
    const ids = movable.flatMap((section) => section.storyIds);
    expect(ids.length).toBeGreaterThan(1);
    const order = [...ids].reverse();
    // Where the order puts the movable stories (each section's run on its own).
    const placed = orderOutline(outline, movable, order)
      .sections.flatMap((section) => section.cards.map((card) => card.storyId))
      .filter((id) => ids.includes(id));
    expect(placed).not.toEqual(ids);
    const storyOfPosition = new Map(
      issueLinks(orderedIssue())
        .filter((link) => link.kind === 'story')
        .map((link) => [link.position, link.storyId]),
    );
    for (const reader of [tracked, untracked]) {
      const copy = readers.personalise(template, reader, order);
      const direct = readers.renderFor(edition, reader, order);
      expect(copy.html).toBe(direct.html);
      expect(copy.text).toBe(direct.text);
      // Each "More like this" link still follows its own story's title, in the new order.
      const votedOrder = feedbackTokens(copy.text)
        .map((token) => verifyFeedbackToken(secrets, token))
        .filter((p) => p?.kind === 'story' && p.choice === 'more')
        .map((p) => (p?.kind === 'story' ? storyOfPosition.get(p.link) : null))
        .filter((id) => id !== undefined && id !== null && ids.includes(id));
      expect(votedOrder).toEqual(placed);
      expect(copy.text.indexOf('How was this issue?')).toBeGreaterThan(
        copy.text.lastIndexOf('Less like this:'),
      );
    }
  });

  it('are absent from archive copies and from test sends, which leave no trace of their slots', () => {
    const edition = demoEdition();
    const archive = readers.archiveCopy(edition);
    expect(archive.html).not.toContain('/f/');
    expect(archive.html).not.toContain('More like this');
    expect(archive.text).not.toContain('/f/');
    const test = tests.personalise(tests.template(edition), tracked);
    expect(test.html).not.toContain('/f/');
    expect(test.html).not.toContain('How was this issue?');
    expect(test.text).not.toContain('More like this');
    expect(test).toEqual(tests.renderFor(edition, tracked));
    // The same size decision with and without feedback links: the guard counts them either way.
    expect(tests.template(edition).htmlBytes).toBe(readers.template(edition).htmlBytes);
    expect(tests.template(edition).leftOut).toEqual(readers.template(edition).leftOut);
  });

  it('count against the clip guard: a limit that fits the copy without them leaves out more', () => {
    const edition = demoEdition();
    const loose = createEditionRenderer({ frame: demoFrame, secrets, trackingEnabled: true, feedback: true });
    const full = loose.template(edition);
    const without = tests.personalise(tests.template(edition), {
      ...tracked,
      subscriberId: '9'.repeat(19),
    }).html;
    const feedbackBytes = full.htmlBytes - Buffer.byteLength(without);
    expect(feedbackBytes).toBeGreaterThan(2000);
    // Room for the copy without feedback links but not with them: the guard must take a step.
    const guarded = createEditionRenderer({
      frame: demoFrame,
      secrets,
      trackingEnabled: true,
      feedback: true,
      maxHtmlBytes: full.htmlBytes - 100,
    }).template(edition);
    expect(guarded.htmlBytes).toBeLessThanOrEqual(full.htmlBytes - 100);
    expect(guarded.leftOut.length).toBeGreaterThan(full.leftOut.length);
  });
});
