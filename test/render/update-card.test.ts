import { describe, expect, it } from 'vitest';
import { demoFrame, demoIssue } from '../../emails/fixtures/demo-edition.ts';
import { editionFor, type IssueContent } from '../../src/issues/issue-content.ts';
import { createEditionRenderer } from '../../src/render/edition-renderer.ts';
import { issueLinks } from '../../src/render/issue-links.ts';
import type { Recipient } from '../../src/render/rendered-message.ts';
import { verifyClickToken } from '../../src/tracking/token.ts';

const secrets = { current: 'a-test-secret-that-is-long-enough-0123456789', previous: [] };
const renderer = createEditionRenderer({ frame: demoFrame, secrets, trackingEnabled: true });
const tracked: Recipient = {
  subscriberId: '7',
  email: 'ann@example.com',
  name: 'Ann',
  trackingEnabled: true,
};
const untracked: Recipient = {
  subscriberId: '8',
  email: 'bo@example.com',
  name: null,
  trackingEnabled: false,
};
const EARLIER = 'https://recap.example.com/archive/2026-W46';

/** The demo issue with its second story of the first section made an update of a story sent in W46. */
function issueWithUpdate(): { content: IssueContent; storyId: string; title: string } {
  const content = demoIssue();
  const section = content.sections.find((s) => s.stories.length >= 2);
  const item = section?.stories[1];
  if (!section || !item) throw new Error('no compact story in the demo issue');
  item.update = {
    storyId: 'earlier-story',
    issueId: 46,
    week: '2026-W46',
    title: 'The earlier headline',
    url: EARLIER,
    since: '2026-11-15',
    newEvents: [
      { date: '2026-11-18', event: 'Regulator opened a review' },
      { date: '2026-11-20', event: 'Company answered' },
    ],
  };
  return { content, storyId: item.story.id, title: item.story.title };
}

describe('an update card', () => {
  it('reads "Update: …", lists what changed since the earlier send and links the earlier coverage, tracked', () => {
    const { content, title } = issueWithUpdate();
    const edition = editionFor(content, [content.sections[0]?.segment.slug as string]);
    const message = renderer.personalise(renderer.template(edition), tracked);
    expect(message).toEqual(renderer.renderFor(edition, tracked));
    expect(message.html).toContain('Update: ');
    expect(message.html).toContain('What changed since 15 Nov 2026');
    expect(message.html).toContain('18 Nov 2026: Regulator opened a review');
    expect(message.html).toContain('Earlier coverage, 9–15 Nov 2026');
    expect(message.text).toContain(`Update: ${title}`.slice(0, 60));
    expect(message.text).toMatch(
      /What changed since 15 Nov 2026:\n {2}\* 18 Nov 2026: Regulator opened a review/,
    );
    // The earlier coverage link is a click token for the issue link of kind 'earlier'.
    const position = issueLinks(content).find(
      (link) => link.url === EARLIER && link.kind === 'earlier',
    )?.position;
    expect(position).toBeDefined();
    const earlierHref = message.text.match(/Earlier coverage, 9–15 Nov 2026:\n(\S+)/)?.[1] ?? '';
    const token = earlierHref.split('/c/')[1] ?? '';
    expect(verifyClickToken(secrets, token)).toEqual({
      subscriberId: '7',
      issueId: content.issueId,
      link: position,
    });
    // An untracked copy links the archive page itself.
    expect(renderer.renderFor(edition, untracked).text).toContain(
      `Earlier coverage, 9–15 Nov 2026:\n${EARLIER}`,
    );
  });

  it('is an ordinary card without an update', () => {
    const content = demoIssue();
    const edition = editionFor(content, [content.sections[0]?.segment.slug as string]);
    const message = renderer.renderFor(edition, tracked);
    expect(message.html).not.toContain('Earlier coverage');
    expect(message.text).not.toContain('Update: ');
    expect(issueLinks(content).some((link) => link.kind === 'earlier')).toBe(false);
  });
});
