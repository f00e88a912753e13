import { describe, expect, it } from 'vitest';
import { demoEdition, demoIssue, demoSegments, demoStories } from '../../emails/fixtures/demo-edition.ts';
import { editionFor } from '../../src/issues/issue-content.ts';
import { issueLinks, linkPosition } from '../../src/render/issue-links.ts';
import { recapOutline } from '../../src/render/recap-outline.ts';
import { cleanHeadline, preheaderText, subjectLine } from '../../src/render/subject-line.ts';
import { formatWeekRange } from '../../src/render/week-range.ts';

const slugs = demoSegments.map((segment) => segment.slug);

describe('subject line and preheader', () => {
  it('names the lead headline whole plus a count, fits 70 characters and is the same for the same edition', () => {
    const outline = recapOutline(demoEdition());
    const subject = outline.subject;
    const count = Number(outline.summary.split(' ')[0]);
    expect(subject).toBe(`HK's AI Beyond US-China Rivalry and ${count - 1} more`);
    expect(subject).not.toContain('…');
    expect([...subject].length).toBeLessThanOrEqual(70);
    expect(recapOutline(demoEdition()).subject).toBe(subject);
    for (const slug of slugs) {
      const single = recapOutline(editionFor(demoIssue(), [slug]));
      const one = single.subject;
      expect(one.startsWith(`${single.hero?.title}`)).toBe(true);
      if ([...`${single.hero?.title}`].length <= 70) expect([...one].length).toBeLessThanOrEqual(70);
      expect(one).not.toContain('…');
      expect(one).toBe(recapOutline(editionFor(demoIssue(), [slug])).subject);
    }
  });

  it('never shouts, never carries emoji or line breaks, and falls back to the week without stories', () => {
    expect(cleanHeadline('🚀 OPENAI SHIPS A NEW MODEL\r\nBCC: X@EXAMPLE.COM 🔥')).toBe(
      'Openai ships a new model bcc: x@example.com',
    );
    const stories = demoStories().map((story) => ({ ...story, title: '🔥🔥 BREAKING: AI 🔥' }));
    const subject = recapOutline(editionFor(demoIssue(stories), slugs)).subject;
    expect(subject).not.toMatch(/\p{Extended_Pictographic}|[\r\n]|BREAKING/u);
    expect(subjectLine([], 0, '23–29 Nov 2026')).toBe('The week in AI: 23–29 Nov 2026');
  });

  it('drops the count before it would cut the lead, and cuts only a lead longer than any subject allows', () => {
    const lead = `A${' word'.repeat(7)}`; // 36 characters
    expect(subjectLine([lead, 'Second'], 7, 'x')).toBe(`${lead} and 6 more`);
    const longer = `${lead} and more words than a count leaves room`; // 75 characters
    expect(subjectLine([longer, 'Second'], 7, 'x')).toBe(`${longer}`);
    const huge = 'Word '.repeat(30).trim();
    const cut = subjectLine([huge], 1, 'x');
    expect([...cut].length).toBeLessThanOrEqual(70);
    expect(cut.endsWith('…')).toBe(true);
  });

  it('writes a preheader that adds to the subject: the count, the read time and the next headlines', () => {
    const outline = recapOutline(demoEdition());
    const preheader = outline.preheader;
    expect([...preheader].length).toBeLessThanOrEqual(110);
    expect(preheader.startsWith(`${outline.summary}. Also: `)).toBe(true);
    expect(preheader).not.toContain("HK's AI Beyond");
    expect(preheader).toContain('EU publishes final code of practice for general-purpose AI models');
    expect(preheaderText(['Only one'], '1 story · 1 min read', 'Your AI news for 23–29 Nov 2026')).toBe(
      '1 story · 1 min read. Your AI news for 23–29 Nov 2026',
    );
  });

  it('says the week as a date range in the issue time zone', () => {
    const day = (iso: string) => new Date(iso);
    expect(formatWeekRange(day('2026-11-23T00:00:00Z'), day('2026-11-30T00:00:00Z'), 'UTC')).toBe(
      '23–29 Nov 2026',
    );
    expect(formatWeekRange(day('2026-10-26T00:00:00Z'), day('2026-11-02T00:00:00Z'), 'UTC')).toBe(
      '26 Oct – 1 Nov 2026',
    );
    expect(formatWeekRange(day('2026-12-28T00:00:00Z'), day('2027-01-04T00:00:00Z'), 'UTC')).toBe(
      '28 Dec 2026 – 3 Jan 2027',
    );
    expect(formatWeekRange(day('2026-11-22T23:00:00Z'), day('2026-11-29T23:00:00Z'), 'Europe/Berlin')).toBe(
      '23–29 Nov 2026',
    );
  });
});

describe('issue links', () => {
  it('registers every link of every edition once, at its index (hashed positions only for older issues)', () => {
    const content = demoIssue();
    const links = issueLinks(content);
    expect(issueLinks(demoIssue())).toEqual(links);
    expect(new Set(links.map((link) => link.url)).size).toBe(links.length);
    expect(new Set(links.map((link) => link.position)).size).toBe(links.length);
    links.forEach((link, index) => {
      expect(link.url).toMatch(/^https?:\/\//);
      expect(link.position).toBe(index);
    });
    const hashed = issueLinks({ ...content, linkPositions: 'hashed' });
    expect(hashed.map((link) => link.url)).toEqual(links.map((link) => link.url));
    for (const link of hashed) {
      expect(link.position).toBe(linkPosition(link.url));
      expect(link.position).toBeLessThanOrEqual(2 ** 31 - 1);
    }
    const registered = new Set(links.map((link) => link.url));
    for (const slug of slugs) {
      for (const url of recapOutline(editionFor(content, [slug])).urls)
        expect(registered.has(url)).toBe(true);
    }
    expect(links.find((link) => link.kind === 'developing')?.url).toBe(
      'https://www.wired.com/2026/05/ai-device-design-studio',
    );
  });

  it('leaves out links that are not http(s)', () => {
    const stories = demoStories();
    const first = stories[0];
    if (first) stories[0] = { ...first, url: 'javascript:alert(1)' };
    expect(issueLinks(demoIssue(stories)).some((link) => link.url.startsWith('javascript'))).toBe(false);
  });
});
