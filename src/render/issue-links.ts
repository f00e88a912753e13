import { createHash } from 'node:crypto';
import type { IssueContent } from '../issues/issue-content.ts';
import { safeHttpUrl } from './safe-url.ts';

export interface IssueLink {
  /** Key of the link within the issue: derived from the URL alone (see linkPosition). */
  position: number;
  url: string;
  storyId: string | null;
  /**
   * 'story' (original article), 'related' (a story's "Related:" line), 'developing' (under "Developing
   * stories"), 'honeypot' (hidden, see HONEYPOT_URL).
   */
  kind: string;
}

/**
 * The hidden link every tracked recap carries for link scanners (kind 'honeypot'): people never see it,
 * so a click on it marks the click as a machine's. The click endpoint never redirects to it.
 */
export const HONEYPOT_URL = 'https://weekly-ai-recap.invalid/honeypot';

/**
 * The position of a URL in every issue: the first 31 bits of its SHA-256. It depends on nothing but the
 * URL, so an edition rendered for one segment set and the issue-wide registry agree without sharing
 * state, and the value fits the `issue_links.position` integer column.
 */
export function linkPosition(url: string): number {
  return createHash('sha256').update(url).digest().readUInt32BE(0) >>> 1;
}

/**
 * The issue-wide registry of every trackable http(s) link any edition of the issue can contain, one row
 * per distinct URL (as `issue_links` requires), in order of first appearance. Pure and deterministic.
 * Throws if two different URLs of the issue share a position (odds about n²/2³²; the issue must then be
 * rebuilt with one of the links changed, since a click could otherwise reach the wrong page).
 */
export function issueLinks(content: IssueContent): Array<IssueLink> {
  const links: IssueLink[] = [];
  const byPosition = new Map<number, string>();
  const add = (rawUrl: string, storyId: string, kind: string) => {
    const url = safeHttpUrl(rawUrl);
    if (!url) return;
    const position = linkPosition(url);
    const known = byPosition.get(position);
    if (known === url) return;
    if (known !== undefined) {
      throw new Error(`issue ${content.issueId}: links ${known} and ${url} share position ${position}`);
    }
    byPosition.set(position, url);
    links.push({ position, url, storyId, kind });
  };
  for (const section of content.sections) {
    for (const item of section.stories) add(item.story.url, item.story.id, 'story');
  }
  // Any story can be a full card in some edition, and full cards show their related links.
  for (const section of content.sections) {
    for (const item of section.stories) {
      for (const related of item.story.related ?? []) {
        if (related.url) add(related.url, item.story.id, 'related');
      }
    }
  }
  for (const item of content.developing) add(item.story.url, item.story.id, 'developing');
  const position = linkPosition(HONEYPOT_URL);
  const known = byPosition.get(position);
  if (known !== undefined && known !== HONEYPOT_URL) {
    throw new Error(`issue ${content.issueId}: link ${known} shares position ${position} with the honeypot`);
  }
  if (known === undefined) links.push({ position, url: HONEYPOT_URL, storyId: null, kind: 'honeypot' });
  return links;
}
