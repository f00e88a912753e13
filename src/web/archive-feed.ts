import { Feed } from 'feed';
import type { PublicIssue } from '../render/public-issue.ts';
import { type PublicSite, publicIssuePath } from './archive-pages.ts';
import { html } from './html.ts';

/**
 * The Atom feed of the archive: one entry per published issue (newest first), its id and link the
 * issue's public page, its summary the lead headlines. Pure; `updated` of the feed is its newest entry's.
 */
export function archiveAtomFeed(
  site: PublicSite,
  issues: ReadonlyArray<{ issue: PublicIssue; publishedAt: Date }>,
): string {
  const archiveUrl = `${site.publicUrl}/archive`;
  const feed = new Feed({
    id: archiveUrl,
    title: site.name,
    description: site.description,
    link: archiveUrl,
    language: 'en',
    updated: issues[0]?.publishedAt ?? new Date(0),
    generator: false,
    feedLinks: { atom: `${archiveUrl}/feed.xml` },
    author: { name: site.name, link: site.publicUrl },
    copyright: 'All content rights belong to original publishers.',
  });
  for (const { issue, publishedAt } of issues) {
    const link = `${site.publicUrl}${publicIssuePath(issue.week)}`;
    feed.addItem({
      title: issue.subject,
      id: link,
      link,
      date: publishedAt,
      published: publishedAt,
      description: issue.description,
      content:
        html`<p>${issue.weekRange}</p><ul>${issue.leadHeadlines.map((headline) => html`<li>${headline}</li>`)}</ul><p><a href="${link}">Read the issue</a></p>`
          .value,
    });
  }
  return feed.atom1();
}
