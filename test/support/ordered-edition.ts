import { demoIssue, demoStories } from '../../emails/fixtures/demo-edition.ts';
import { type Edition, editionFor, type IssueContent } from '../../src/issues/issue-content.ts';

/**
 * The demo issue with three more engineering stories, one of them pinned by the editor in the middle of
 * its section: followed as founders + engineers, the founders' section has four movable stories and the
 * engineers' section three, with the pinned card between them. `bare`: no "What to watch" and no
 * developing stories, so the footer follows the last section's last card directly.
 */
export function orderedIssue(options: { bare?: boolean } = {}): IssueContent {
  const stories = demoStories().map((story) => (options.bare ? { ...story, implications: [] } : story));
  const engineering = stories.filter((story) => story.audiences.includes('Engineers & Developers'));
  const extra = engineering.slice(0, 3).map((story, i) => ({
    ...story,
    id: `extra-${i}`,
    title: `Extra story ${i}`,
    url: `https://news.example.com/extra-${i}`,
    tldr: { ...story.tldr, whatChanged: `What changed in extra story ${i}.` },
  }));
  const content = demoIssue([...stories, ...extra]);
  for (const section of content.sections) {
    const at = section.stories.findIndex((item) => item.story.id === 'extra-0');
    const [pinned] = at >= 0 ? section.stories.splice(at, 1) : [];
    if (pinned) section.stories.splice(2, 0, { ...pinned, reasons: ['pinned by editor'] });
  }
  return options.bare ? { ...content, developing: [] } : content;
}

export const orderedSlugs = ['engineers-developers', 'founders-product-leaders'];

export function orderedEdition(options: { bare?: boolean } = {}): Edition {
  return editionFor(orderedIssue(options), orderedSlugs);
}
