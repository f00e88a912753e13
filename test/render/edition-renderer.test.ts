import { simpleParser } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { describe, expect, it } from 'vitest';
import { demoEdition, demoFrame, demoIssue, demoStories } from '../../emails/fixtures/demo-edition.ts';
import { editionFor } from '../../src/issues/issue-content.ts';
import { createEditionRenderer } from '../../src/render/edition-renderer.ts';
import { issueLinks } from '../../src/render/issue-links.ts';
import type { Recipient, RenderedMessage } from '../../src/render/rendered-message.ts';
import { verifyClickToken, verifyToken } from '../../src/tracking/token.ts';
import { orderedEdition } from '../support/ordered-edition.ts';

const secrets = { current: 'a-test-secret-that-is-long-enough-0123456789', previous: [] };
const renderer = createEditionRenderer({ frame: demoFrame, secrets, trackingEnabled: true });

const recipients: Recipient[] = [
  { subscriberId: '1', email: 'anna@example.com', name: 'Anna Müller', trackingEnabled: true },
  { subscriberId: '42', email: 'bob@example.com', name: null, trackingEnabled: false },
  { subscriberId: '9001', email: 'eve@example.com', name: `O'Neil <b>&"x"`, trackingEnabled: true },
];

function hostileEdition() {
  const stories = demoStories();
  const first = stories[0];
  if (!first) throw new Error('no fixture story');
  stories[0] = {
    ...first,
    title: '<script>alert(1)</script><img src=x onerror=alert(2)></td></table>{{unsubscribe_url}}',
    source: { name: 'Evil "Source" <a href="https://evil.example">', url: 'javascript:alert(3)' },
    tldr: {
      whatChanged: '{{unsubscribe_url}} </p><a href="https://evil.example/x">click</a>',
      whyItMatters: null,
      whatToDoNext: null,
    },
    keyTakeaways: ['<style>body{display:none}</style>', '   '],
  };
  const second = stories[1];
  if (second) stories[1] = { ...second, url: 'javascript:alert(4)' };
  return editionFor(demoIssue(stories), [
    'founders-product-leaders',
    'engineers-developers',
    'investors',
    'policy-legal',
  ]);
}

const hrefsOf = (html: string) => [...html.matchAll(/href="([^"]*)"/g)].map((match) => match[1] ?? '');

describe('edition renderer', () => {
  it('personalises a shared template into exactly what a full render gives each recipient', () => {
    const edition = demoEdition();
    const template = renderer.template(edition);
    for (const recipient of recipients) {
      const personalised = renderer.personalise(template, recipient);
      const direct = renderer.renderFor(edition, recipient);
      expect(personalised.html).toBe(direct.html);
      expect(personalised.text).toBe(direct.text);
      expect(personalised.subject).toBe(direct.subject);
      expect(personalised.headers).toEqual(direct.headers);
    }
  });

  it('also matches the full render for hostile content and a tracking-disabled renderer', () => {
    const edition = hostileEdition();
    const untracked = createEditionRenderer({ frame: demoFrame, secrets, trackingEnabled: false });
    for (const r of [renderer, untracked]) {
      const template = r.template(edition);
      for (const recipient of recipients)
        expect(r.personalise(template, recipient)).toEqual(r.renderFor(edition, recipient));
    }
  });

  it("matches the full render in a reader's own order (reversed, partial, with unknown ids, empty)", () => {
    const untracked = createEditionRenderer({ frame: demoFrame, secrets, trackingEnabled: false });
    // `bare`: the footer follows the last section's movable run directly.
    for (const edition of [
      demoEdition(),
      hostileEdition(),
      orderedEdition(),
      orderedEdition({ bare: true }),
    ]) {
      for (const r of [renderer, untracked]) {
        const template = r.template(edition);
        const ids = template.movable.flatMap((section) => section.storyIds);
        expect(ids.length).toBeGreaterThanOrEqual(4);
        const orders = [
          [...ids].reverse(),
          ids.slice(1),
          [ids[ids.length - 1] as string, 'no-such-story'],
          [],
        ];
        for (const order of orders) {
          for (const recipient of recipients) {
            const personalised = r.personalise(template, recipient, order);
            const direct = r.renderFor(edition, recipient, order);
            expect(personalised.html).toBe(direct.html);
            expect(personalised.text).toBe(direct.text);
            expect(personalised).toEqual(direct);
          }
        }
      }
    }
  });

  it('renders hostile story content as literal text: no script, no injected link, placeholders untouched', () => {
    const message = renderer.personalise(renderer.template(hostileEdition()), recipients[0] as Recipient);
    expect(message.html).not.toMatch(/<script|<img src=x|<[^>]*onerror|<style>body/i);
    expect(message.html).toContain(
      '&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&lt;/td&gt;&lt;/table&gt;{{unsubscribe_url}}',
    );
    expect(message.text).toContain('{{unsubscribe_url}}');
    for (const href of hrefsOf(message.html)) {
      expect(href).toMatch(/^https?:\/\//);
      expect(href).not.toContain('evil.example');
    }
    expect(message.html).not.toContain('javascript:');
    expect(message.text).not.toContain('javascript:');
    expect(message.html).not.toContain('undefined');
    expect(message.text).not.toContain('undefined');
  });

  it('links every story through a click token that resolves to a registered link of the issue', () => {
    const content = demoIssue();
    const registry = new Map(issueLinks(content).map((link) => [link.position, link.url]));
    const trapped = createEditionRenderer({
      frame: demoFrame,
      secrets,
      trackingEnabled: true,
      honeypot: true,
    });
    const message = trapped.personalise(trapped.template(demoEdition()), recipients[0] as Recipient);
    expect(message).toEqual(trapped.renderFor(demoEdition(), recipients[0] as Recipient));
    expect(
      renderer.personalise(renderer.template(demoEdition()), recipients[0] as Recipient).html,
    ).not.toContain('style="display:none"></a>');
    const clicks = hrefsOf(message.html).filter((href) => href.includes('/c/'));
    expect(clicks.length).toBeGreaterThanOrEqual(12);
    for (const href of clicks) {
      const payload = verifyClickToken(secrets, href.split('/c/')[1] ?? '');
      expect(payload).toMatchObject({ subscriberId: '1', issueId: content.issueId });
      expect(registry.has(payload?.link ?? -1)).toBe(true);
    }
    const honeypot = issueLinks(content).find((link) => link.kind === 'honeypot');
    const hidden =
      /<div style="display:none[^"]*">[^<]*<a href="https:\/\/recap\.example\.com\/c\/([^"]+)"[^>]*style="display:none"><\/a><div>[\u00a0\u200b-\u200d\ufeff]+<\/div><\/div>/.exec(
        message.html,
      );
    expect(verifyClickToken(secrets, hidden?.[1] ?? '')?.link).toBe(honeypot?.position);
    expect(message.text).not.toContain(hidden?.[1] ?? 'no honeypot');
    const pixel = /src="https:\/\/recap\.example\.com\/o\/([^"]+)"/.exec(message.html)?.[1] ?? '';
    expect(verifyToken(secrets, pixel, 'open')).toMatchObject({
      subscriberId: '1',
      issueId: content.issueId,
    });
    const unsubscribe = /<https:\/\/recap\.example\.com\/u\/([^>]+)>/.exec(
      message.headers['List-Unsubscribe'] ?? '',
    )?.[1];
    expect(verifyToken(secrets, unsubscribe ?? '', 'unsubscribe')).toMatchObject({
      subscriberId: '1',
      issueId: content.issueId,
    });
  });

  it('keeps original links and no pixel when tracking is off for the subscriber', () => {
    const message = renderer.personalise(renderer.template(demoEdition()), recipients[1] as Recipient);
    expect(message.html).not.toContain('/c/');
    expect(message.html).not.toContain('/o/');
    expect(hrefsOf(message.html)).toContain('https://www.scmp.com/tech');
    expect(message.text).toContain('\nhttps://www.scmp.com/tech\n');
  });

  it('keeps a 12-story issue under the size limit (Gmail clips at about 102 KB)', () => {
    const edition = demoEdition();
    const stories = [edition.hero, ...edition.sections.flatMap((section) => section.stories)].filter(Boolean);
    expect(stories).toHaveLength(12);
    const message = renderer.personalise(renderer.template(edition), recipients[2] as Recipient);
    expect(Buffer.byteLength(message.html)).toBeLessThan(95 * 1024);
  });

  it('writes a plain-text part for reading: 72 columns, links on their own lines, underlined headings', () => {
    const message = renderer.personalise(renderer.template(demoEdition()), recipients[0] as Recipient);
    const lines = message.text.split('\n');
    for (const line of lines) if (!/https?:\/\//.test(line)) expect([...line].length).toBeLessThanOrEqual(72);
    for (const line of lines.filter((l) => l.includes('http')))
      expect(line.trim()).toMatch(/^https?:\/\/\S+$/);
    expect(message.text).toMatch(/^WEEKLY AI RECAP\n={15}\n/);
    expect(message.text).toContain('FOR FOUNDERS & PRODUCT LEADERS\n------------------------------');
    expect(message.text).toContain('What changed: Global AI landscape is multipolar');
    expect(message.text).toContain('Hi Anna,');
    expect(message.text).toContain('All content rights belong to original');
  });

  it('keeps the plain-text part stable (snapshot)', () => {
    expect(
      renderer.personalise(renderer.template(demoEdition()), recipients[0] as Recipient).text,
    ).toMatchSnapshot();
  });

  it('degrades gracefully when every optional field is missing', () => {
    const stories = demoStories().map((story) => ({
      ...story,
      region: null,
      publishedAt: null,
      collectedAt: null,
      audiences: story.audiences,
      tldr: { whatChanged: null, whyItMatters: null, whatToDoNext: null },
      keyTakeaways: [],
      implications: [],
      timeline: [],
      source: { name: '  ', url: null },
    }));
    const content = { ...demoIssue(stories), developing: [] };
    const message = renderer.archiveCopy(editionFor(content, ['investors']));
    expect(message.html).not.toMatch(
      /undefined|null|NaN|What changed|What to watch|Developing stories|Who should care: <|<h[1-3][^>]*><\/h[1-3]>/,
    );
    expect(message.html).toContain('Read the original');
    expect(message.text).not.toMatch(/undefined|null|NaN/);
  });

  it('makes an archive copy without personal links', () => {
    const message = renderer.archiveCopy(demoEdition());
    expect(message.html).not.toMatch(/\/(u|p|o|c)\//);
    expect(message.html).not.toContain('Unsubscribe');
    expect(message.html).toContain('href="https://www.scmp.com/tech"');
  });

  it('composes into a multipart/alternative message mailparser reads back with the list headers', async () => {
    const message: RenderedMessage = renderer.personalise(
      renderer.template(demoEdition()),
      recipients[0] as Recipient,
    );
    const raw = await new MailComposer({
      from: `${demoFrame.senderName} <${demoFrame.senderEmail}>`,
      to: 'anna@example.com',
      subject: message.subject,
      html: message.html,
      text: message.text,
      headers: message.headers,
    })
      .compile()
      .build();
    expect(raw.toString()).toMatch(/Content-Type: multipart\/alternative/);
    const parsed = await simpleParser(raw);
    expect(parsed.subject).toBe(message.subject);
    expect(parsed.subject?.length).toBeLessThanOrEqual(70);
    expect(parsed.text?.trim()).toBe(message.text.trim());
    expect(parsed.html).toBe(message.html);
    const header = (name: string) =>
      parsed.headerLines.find((line) => line.key === name)?.line.replace(/\r?\n\s+/g, ' ') ?? '';
    expect(header('list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(header('list-unsubscribe')).toMatch(
      /^List-Unsubscribe: <https:\/\/recap\.example\.com\/u\/k\.1\.[^>]+>, <mailto:unsubscribe\+k=1=[^>.]+@weekly-ai-recap\.recap\.example\.com>$/,
    );
    expect(header('list-id')).toMatch(/^List-I[dD]: Weekly AI Recap <weekly-ai-recap\.recap\.example\.com>$/);
    for (const href of hrefsOf(String(parsed.html))) expect(href).toMatch(/^https?:\/\//);
  });
});
