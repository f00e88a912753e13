import { createHash } from 'node:crypto';
import type { IssueContent } from '../issues/issue-content.ts';
import { noteUrls } from '../issues/issue-writing.ts';
import { safeHttpUrl } from './safe-url.ts';

export interface IssueLink {
  /** Key of the link within the issue (see LinkPositionScheme). */
  position: number;
  url: string;
  storyId: string | null;
  /**
   * 'story' (original article), 'related' (a story's "Related:" line), 'developing' (under "Developing
   * stories"), 'earlier' (an update's link to its earlier coverage), 'note' (the editor's note), 'honeypot' (hidden, see HONEYPOT_URL).
   */
  kind: string;
}

/**
 * The hidden link every tracked recap carries for link scanners (kind 'honeypot'): people never see it,
 * so a click on it marks the click as a machine's. The click endpoint never redirects to it.
 */
export const HONEYPOT_URL = 'https://weekly-ai-recap.invalid/honeypot';

/**
 * How an issue numbers its links. 'indexed' (every issue built since link positions became indexes):
 * a link's position is its index in `issueLinks()`, derived from the frozen content alone, so every
 * worker and renderer agrees without shared state and two links never share a position. 'hashed' (issues
 * built before): the first 31 bits of the URL's SHA-256 (`linkPosition`), kept so click tokens already
 * mailed keep resolving.
 */
export type LinkPositionScheme = 'indexed' | 'hashed';

/** The scheme of a content: content without one was built in memory by this version, so 'indexed'. */
export function linkPositionSchemeOf(content: Pick<IssueContent, 'linkPositions'>): LinkPositionScheme {
  return content.linkPositions ?? 'indexed';
}

/**
 * The position of a URL in an issue of the 'hashed' scheme: the first 31 bits of its SHA-256. It fits
 * the `issue_links.position` integer column.
 */
export function linkPosition(url: string): number {
  return createHash('sha256').update(url).digest().readUInt32BE(0) >>> 1;
}

/**
 * The issue-wide registry of every trackable http(s) link any edition of the issue can contain, one row
 * per distinct URL (as `issue_links` requires), in order of first appearance, the hidden scanner link
 * last. Pure and deterministic. In the 'indexed' scheme a position is the row's index: it never throws.
 * In the 'hashed' scheme (issues built before) it throws if two different URLs share a position.
 */
export function issueLinks(content: IssueContent): Array<IssueLink> {
  const hashed = linkPositionSchemeOf(content) === 'hashed';
  const links: IssueLink[] = [];
  const byUrl = new Set<string>();
  const byPosition = new Map<number, string>();
  const add = (url: string, storyId: string | null, kind: string) => {
    if (byUrl.has(url)) return;
    const position = hashed ? linkPosition(url) : links.length;
    const known = byPosition.get(position);
    if (known !== undefined) {
      throw new Error(`issue ${content.issueId}: links ${known} and ${url} share position ${position}`);
    }
    byUrl.add(url);
    byPosition.set(position, url);
    links.push({ position, url, storyId, kind });
  };
  const addStoryLink = (rawUrl: string, storyId: string, kind: string) => {
    const url = safeHttpUrl(rawUrl);
    if (url) add(url, storyId, kind);
  };
  for (const section of content.sections) {
    for (const item of section.stories) addStoryLink(item.story.url, item.story.id, 'story');
  }
  // Any story can be a full card in some edition, and full cards show their related links.
  for (const section of content.sections) {
    for (const item of section.stories) {
      for (const related of item.story.related ?? []) {
        if (related.url) addStoryLink(related.url, item.story.id, 'related');
      }
    }
  }
  for (const item of content.developing) addStoryLink(item.story.url, item.story.id, 'developing');
  for (const section of content.sections) {
    for (const item of section.stories)
      if (item.update) addStoryLink(item.update.url, item.story.id, 'earlier');
  }
  for (const url of noteUrls(content.writing?.note)) add(url, null, 'note');
  add(HONEYPOT_URL, null, 'honeypot');
  return links;
}

/** Each link's position in the issue, by URL (what a renderer signs click tokens for). */
export function linkPositionsOf(content: IssueContent): ReadonlyMap<string, number> {
  return new Map(issueLinks(content).map((link) => [link.url, link.position]));
}
