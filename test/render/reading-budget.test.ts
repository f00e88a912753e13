import { describe, expect, it } from 'vitest';
import {
  demoEdition,
  demoFrame,
  demoIssue,
  demoSegments,
  demoStories,
} from '../../emails/fixtures/demo-edition.ts';
import { editionFor, type IssueContent } from '../../src/issues/issue-content.ts';
import { createEditionRenderer } from '../../src/render/edition-renderer.ts';
import { issueLinks } from '../../src/render/issue-links.ts';
import { MAX_READ_MINUTES, recapOutline } from '../../src/render/recap-outline.ts';
import type { Recipient } from '../../src/render/rendered-message.ts';
import { verifyClickToken } from '../../src/tracking/token.ts';
import { generateWeek, generatorSegments, seededRandom } from '../selection/week-generator.ts';

const secrets = { current: 'a-test-secret-that-is-long-enough-0123456789', previous: [] };
const anna: Recipient = { subscriberId: '7', email: 'anna@example.com', name: 'Anna', trackingEnabled: true };
// The subject no longer repeats the sender's name.
const PREFIX = '';
const slugOf = (name: string) => name.toLowerCase().replace(/[^a-z]+/g, '-');

/** A week's issue over generated stories: every segment gets its tagged stories, scores random, some pinned. */
function generatedIssue(seed: number): IssueContent {
  const random = seededRandom(seed);
  const week = generateWeek({ seed, events: 10 + Math.floor(random() * 40) });
  const long = demoStories()[0];
  const stories = week.stories.map((story, index) => ({
    ...story,
    // Some titles long enough that a subject cannot hold them whole with a count.
    title: index % 5 === 0 ? `${story.title} as ${story.title.toLowerCase()} again` : story.title,
    keyTakeaways: index % 3 === 0 ? (long?.keyTakeaways ?? []) : story.keyTakeaways,
    tldr: index % 4 === 0 && long ? long.tldr : story.tldr,
  }));
  const sections = generatorSegments.map((name, id) => ({
    segment: { id: id + 1, name, slug: slugOf(name) },
    skipped: false,
    skipReason: null,
    stories: stories
      .filter((story) => story.audiences.includes(name))
      .slice(0, 3 + Math.floor(random() * 8))
      .map((story) => ({
        story,
        score: Math.round(random() * 1000) / 10,
        fallback: false,
        alsoCoveredBy: [],
        reasons: random() < 0.1 ? ['pinned by editor at position 2'] : [],
        scoreBreakdown: {},
      }))
      .sort((a, b) => b.score - a.score),
  }));
  return {
    issueId: seed,
    week: '2026-W48',
    weekStart: new Date('2026-11-23T00:00:00Z'),
    weekEnd: new Date('2026-11-30T00:00:00Z'),
    timeZone: 'UTC',
    sections,
    developing: demoIssue().developing,
  };
}

/** Every non-empty subset of the segments. */
function segmentSets(slugs: string[]): string[][] {
  const sets: string[][] = [];
  for (let mask = 1; mask < 1 << slugs.length; mask++) sets.push(slugs.filter((_, i) => mask & (1 << i)));
  return sets;
}

describe('subjects over generated weeks', () => {
  it('never cut two headlines: the lead whole plus a count, ≤ 70 characters where the headline allows', () => {
    let checked = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const content = generatedIssue(seed);
      for (const set of segmentSets(generatorSegments.map(slugOf))) {
        const outline = recapOutline(editionFor(content, set));
        if (!outline.hero) continue;
        const subject = outline.subject;
        const lead = outline.hero.title;
        const count = outline.hero ? 1 + outline.sections.reduce((n, s) => n + s.cards.length, 0) : 0;
        expect(subject.split('…').length - 1).toBeLessThanOrEqual(1);
        if ([...`${PREFIX}${lead}`].length <= 100) {
          expect([`${PREFIX}${lead}`, `${PREFIX}${lead} and ${count - 1} more`]).toContain(subject);
        }
        if ([...`${PREFIX}${lead}`].length <= 70) expect([...subject].length).toBeLessThanOrEqual(70);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(300);
  });
});

describe('reading budget', () => {
  it('keeps every reader at ≤ 3 min read, whatever their segments, and never leaves out a pinned story', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const content = generatedIssue(seed);
      for (const set of segmentSets(generatorSegments.map(slugOf))) {
        const edition = editionFor(content, set);
        const outline = recapOutline(edition);
        expect(outline.minutes).toBeLessThanOrEqual(MAX_READ_MINUTES);
        expect(outline.summary).toMatch(/ · [123] min read$/);
        const pinned = edition.sections.flatMap((s) =>
          s.stories.filter((item) => item.reasons.some((r) => r.startsWith('pinned'))),
        );
        const left = new Set(outline.leftOut.map((item) => item.storyId));
        for (const item of pinned) expect(left.has(item.story.id)).toBe(false);
        expect(left.has(edition.hero?.story.id ?? '')).toBe(false);
      }
    }
  });

  it('gives the hero and each section’s first story the full card and the others a compact one', () => {
    const outline = recapOutline(demoEdition());
    expect(outline.hero?.compact).toBe(false);
    expect(outline.hero?.tldr.map((line) => line.label)).toEqual([
      'What changed',
      'Why it matters',
      'What to do next',
    ]);
    expect(outline.hero?.hook).toBe(
      "HK's strategy to lead AI outside US-China rivalry unlocks new collab ops",
    );
    for (const section of outline.sections) {
      expect(section.cards[0]?.compact).toBe(false);
      for (const card of section.cards.slice(1)) {
        expect(card.compact).toBe(true);
        expect(card.tldr.map((line) => line.label)).toEqual(['What changed']);
        expect(card.takeaways).toEqual([]);
        expect(card.hook).toBeNull();
        expect(card.related).toEqual([]);
      }
    }
    // The reader of every segment: developing item first, then the lowest-scored compact stories.
    expect(outline.leftOut[0]).toMatchObject({ kind: 'developing', reason: 'reading time' });
    const scores = new Map(
      demoEdition().sections.flatMap((s) => s.stories.map((item) => [item.story.id, item.score] as const)),
    );
    const leftScores = outline.leftOut
      .filter((i) => i.kind === 'story')
      .map((i) => scores.get(i.storyId) ?? 0);
    const keptCompact = outline.sections
      .flatMap((s) => s.cards.slice(1))
      .map((c) => scores.get(c.storyId) ?? 0);
    expect(Math.max(...leftScores)).toBeLessThanOrEqual(Math.min(...keptCompact));
  });

  it('renders compact cards as title, source line, the "what changed" sentence and the read link', () => {
    const renderer = createEditionRenderer({ frame: demoFrame, secrets, trackingEnabled: false });
    const { html } = renderer.archiveCopy(demoEdition());
    const outline = recapOutline(demoEdition());
    const compact = outline.sections[0]?.cards[1];
    expect(compact?.compact).toBe(true);
    const start = html.indexOf(compact?.title ?? 'missing');
    const card = html.slice(start, html.indexOf('</table>', start));
    expect(card).not.toContain('Why it matters');
    expect(card).not.toContain('Key takeaways');
    expect(card).toContain('Read original on');
    // Labels are bold text colour; only links carry the accent colour, and in-body links are underlined.
    expect(html).toMatch(/<strong class="ink" style="color:#111827;font-weight:700">What changed:<\/strong>/);
    for (const [, style] of html.matchAll(/<a href="[^"]*"(?: class="ac")? style="([^"]*)"/g)) {
      if (style?.includes('#2563eb')) expect(style).toContain('text-decoration:underline');
    }
    expect([...html.matchAll(/(?<!-)color:#2563eb/g)].length).toBe(
      [...html.matchAll(/<a [^>]*color:#2563eb/g)].length,
    );
  });
});

describe('preheader markup', () => {
  it('is hidden without colour or size tricks, padded with whitespace, and holds the hidden scanner link', () => {
    const renderer = createEditionRenderer({
      frame: demoFrame,
      secrets,
      trackingEnabled: true,
      honeypot: true,
    });
    const { html } = renderer.personalise(renderer.template(demoEdition()), anna);
    const match =
      /<div style="([^"]*)">([^<]*)<a href="([^"]*)" style="display:none"><\/a><div>([^<]*)<\/div><\/div>/.exec(
        html,
      );
    expect(match).not.toBeNull();
    const [, style, text, honeypot, filler] = match as unknown as string[];
    expect(style).toBe(
      'display:none;overflow:hidden;line-height:1px;opacity:0;max-height:0;max-width:0;mso-hide:all',
    );
    expect(style).not.toMatch(/color|font-size/);
    expect(text).toBe(recapOutline(demoEdition()).preheader);
    expect(filler).toMatch(/^(?:\u00a0|\u200b|\u200c|\u200d|\ufeff)+$/);
    expect([...(text ?? '')].length + [...(filler ?? '')].length / 5).toBeGreaterThanOrEqual(150);
    const hidden = issueLinks(demoIssue()).find((link) => link.kind === 'honeypot');
    expect(verifyClickToken(secrets, honeypot?.split('/c/')[1] ?? '')?.link).toBe(hidden?.position);
  });
});

describe('Gmail clip guard', () => {
  it('leaves out stories by the same rule until a tracked copy fits, and the renderer reports which', () => {
    const issue = demoIssue();
    const slugs = demoSegments.map((s) => s.slug);
    const roomy = createEditionRenderer({ frame: demoFrame, secrets, trackingEnabled: true });
    const full = roomy.template(editionFor(issue, slugs));
    expect(full.leftOut.every((item) => item.reason === 'reading time')).toBe(true);
    const limit = full.htmlBytes - 4000;
    const tight = createEditionRenderer({
      frame: demoFrame,
      secrets,
      trackingEnabled: true,
      maxHtmlBytes: limit,
    });
    const edition = editionFor(issue, slugs);
    const template = tight.template(edition);
    expect(template.htmlBytes).toBeLessThanOrEqual(limit);
    const bySize = template.leftOut.filter((item) => item.reason === 'size');
    expect(bySize.length).toBeGreaterThan(0);
    expect(template.leftOut.slice(0, full.leftOut.length)).toEqual(full.leftOut);
    const copy = tight.personalise(template, anna);
    expect(Buffer.byteLength(copy.html)).toBeLessThanOrEqual(limit);
    for (const item of bySize) expect(copy.html).not.toContain(item.title);
    // A full render and the archive copy make the same decision.
    expect(tight.renderFor(edition, anna)).toEqual(copy);
    for (const item of bySize) expect(tight.archiveCopy(edition).html).not.toContain(item.title);
  });

  it('stops when nothing is left to leave out: the hero and pinned stories stay', () => {
    const tiny = createEditionRenderer({
      frame: demoFrame,
      secrets,
      trackingEnabled: true,
      maxHtmlBytes: 1000,
    });
    const template = tiny.template(demoEdition());
    expect(template.htmlBytes).toBeGreaterThan(1000);
    const copy = tiny.personalise(template, anna);
    expect(copy.html).toContain('AI Beyond US-China Rivalry');
    expect(copy.html).toContain('0 min read'.replace('0', String(template.minutes)));
  });
});

describe('Outlook for Windows', () => {
  it('gets a 600 px ghost table, exact line heights, a padded button cell and rules as cell borders', () => {
    const renderer = createEditionRenderer({ frame: demoFrame, secrets, trackingEnabled: false });
    const { html } = renderer.archiveCopy(demoEdition());
    expect(html).toContain(
      '<!--[if mso]><table role="presentation" align="center" width="600" cellpadding="0" cellspacing="0" border="0"><tr><td><![endif]-->',
    );
    expect(html).toContain('<!--[if mso]></td></tr></table><![endif]-->');
    expect(html).not.toContain('mso-ghost');
    for (const [, style] of html.matchAll(/style="([^"]*line-height:(?!1px)[^"]*)"/g)) {
      expect(style).toMatch(/mso-line-height-rule:exactly;(?:[^;]*;)*line-height/);
    }
    expect(html).toMatch(
      /<td class="btn" style="[^"]*mso-padding-alt:12px 20px[^"]*"><a href="[^"]*" style="display:inline-block;padding:12px 20px/,
    );
    expect(html).not.toMatch(/<(?:p|div|h[1-6])\b[^>]*style="[^"]*border-top/);
  });
});

describe('hook and related stories', () => {
  it('shows related links as a compact line on full cards, tracked like every other link and registered', () => {
    const stories = demoStories();
    const first = stories[0];
    if (!first) throw new Error('no story');
    stories[0] = {
      ...first,
      related: [
        { title: 'Hong Kong AI grants explained', url: 'https://www.scmp.com/tech/grants' },
        { id: 'unresolved-id-only' },
        { url: 'javascript:alert(1)' },
      ],
    };
    const content = demoIssue(stories);
    const edition = editionFor(
      content,
      demoSegments.map((s) => s.slug),
    );
    const renderer = createEditionRenderer({ frame: demoFrame, secrets, trackingEnabled: true });
    const copy = renderer.personalise(renderer.template(edition), anna);
    expect(recapOutline(edition).hero?.related).toEqual([
      { title: 'Hong Kong AI grants explained', url: 'https://www.scmp.com/tech/grants' },
    ]);
    const related = /Related: <span><a href="([^"]+)"[^>]*>Hong Kong AI grants explained<\/a>/.exec(
      copy.html,
    );
    expect(related).not.toBeNull();
    const link = issueLinks(content).find((l) => l.url === 'https://www.scmp.com/tech/grants');
    expect(link?.kind).toBe('related');
    expect(verifyClickToken(secrets, related?.[1]?.split('/c/')[1] ?? '')?.link).toBe(link?.position);
    expect(copy.text).toContain(
      'Related:\n  * Hong Kong AI grants explained\n    https://recap.example.com/c/',
    );
    expect(copy.html).not.toContain('javascript:');
  });
});
