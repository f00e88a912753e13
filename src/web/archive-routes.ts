import type { FastifyInstance, FastifyReply } from 'fastify';
import { LRUCache } from 'lru-cache';
import { parseIsoWeek } from '../calendar/iso-week.ts';
import { listArchivedIssues, sentSegmentKeys } from '../delivery/delivery.repository.ts';
import { editionRendererFor } from '../delivery/edition-messages.ts';
import { findIssueState } from '../issues/issue.repository.ts';
import { loadIssueContent } from '../issues/issue-content.repository.ts';
import { editionFor } from '../issues/issue-content.ts';
import type { EditionRenderer } from '../render/edition-renderer.ts';
import { type PublicIssue, publicIssueOf } from '../render/public-issue.ts';
import { describeCadence } from '../schedule/cadence.ts';
import { segmentSetFromKey } from '../stories/segment-set.ts';
import { archiveAtomFeed } from './archive-feed.ts';
import {
  archiveIndexBody,
  type PublicSite,
  publicHead,
  publicIssueBody,
  publicIssuePath,
  subscribeCallToAction,
  withPublicFrame,
} from './archive-pages.ts';
import { html } from './html.ts';
import { sendPage, type WebContext } from './web-context.ts';

/** Only issues that went out are public; drafts and approved issues stay in the editor. */
const PUBLISHED = ['sending', 'sent'] as const;
const PAGE_CACHE_ENTRIES = 500;
const PAGE_CACHE_BYTES = 32 * 1024 * 1024;
const SENT_SETS_ENTRIES = 500;
const SENT_SETS_TTL_MS = 3_600_000;
const SENDING_SETS_TTL_MS = 30_000;
/** Issues per page of the archive index. */
export const ARCHIVE_PAGE_SIZE = 10;
/** Entries of the Atom feed: the latest issues. */
const FEED_ENTRIES = 20;
const PUBLIC_CACHE = 'public, max-age=300';

interface SentSets {
  keys: ReadonlySet<string>;
  /** The issue's public page content, built on first use. */
  issue?: Promise<PublicIssue | null>;
}

/** What the public pages say about the recap, read per request (PUBLIC_URL may follow the bound port). */
export function publicSiteOf(context: WebContext): PublicSite {
  const { config } = context.deps;
  return {
    publicUrl: config.publicUrl,
    name: config.sender.name,
    description: config.publicPages.description,
    cadence: describeCadence(config.cron),
    archivePublic: config.publicPages.archivePublic,
  };
}

/**
 * The public archive. GET /archive (?page=N): sent issues newest first with date range, subject and
 * lead headlines. GET /archive/feed.xml: their Atom feed. GET /archive/:week: the issue for a visitor,
 * every section of its editions in one page. GET /archive/:week/:segment: one edition as mailed (the
 * "view in browser" link; the segment key: slugs joined by '+'), its canonical link the issue's page.
 * No personal text, link or pixel anywhere. Only segment sets the issue was sent with exist (others are
 * 404 before any rendering). An issue's content is frozen once it sends, so rendered pages, of issues
 * sent or still sending, are kept in a bounded LRU cache. With ARCHIVE_PUBLIC=false the index and the
 * feed are 404 and every page is noindex; issue pages stay reachable by their links.
 */
// Long: the archive's route table; its handlers share the render and sent-sets caches.
export function registerArchiveRoutes(server: FastifyInstance, context: WebContext): void {
  const { deps } = context;
  // Bounded by count and by size: a flood of keys cannot grow memory, and only real pages get in.
  const pages = new LRUCache<string, string>({
    max: PAGE_CACHE_ENTRIES,
    maxSize: PAGE_CACHE_BYTES,
    sizeCalculation: (page) => Buffer.byteLength(page),
  });
  const rendering = new Map<string, Promise<string | null>>();
  const sentSets = new LRUCache<string, SentSets>({ max: SENT_SETS_ENTRIES });

  const notFound = (reply: FastifyReply) =>
    sendPage(
      reply,
      404,
      'Not in the archive',
      html`<p>There is no such issue. <a href="/archive">See all issues</a>.</p>`,
    );
  const noIndex = (reply: FastifyReply) =>
    sendPage(
      reply,
      404,
      'No public archive',
      html`<p>Past issues are not listed here. The link in each email opens its issue. <a href="/subscribe">Subscribe</a> to receive the next one.</p>`,
    );

  server.get<{ Querystring: { page?: string } }>('/archive', async (request, reply) => {
    const site = publicSiteOf(context);
    if (!site.archivePublic) return noIndex(reply);
    const pageText = request.query.page ?? '1';
    if (typeof pageText !== 'string' || !/^[1-9][0-9]{0,5}$/.test(pageText))
      return sendPage(
        reply,
        400,
        'No such page',
        html`<p>Pages are numbered from 1. <a href="/archive">See the latest issues</a>.</p>`,
      );
    const page = Number(pageText);
    const { total, issues } = await listArchivedIssues(deps.db, PUBLISHED, {
      limit: ARCHIVE_PAGE_SIZE,
      offset: (page - 1) * ARCHIVE_PAGE_SIZE,
    });
    const pageCount = Math.max(1, Math.ceil(total / ARCHIVE_PAGE_SIZE));
    if (page > pageCount) return notFound(reply);
    const shown = (await Promise.all(issues.map((row) => publicIssueFor(row.week)))).filter(
      (issue): issue is PublicIssue => issue !== null,
    );
    const title = page === 1 ? `${site.name} archive` : `${site.name} archive, page ${page}`;
    return sendPage(reply, 200, title, archiveIndexBody(shown, { page, pages: pageCount }), {
      indexable: true,
      publicStyle: true,
      head: publicHead(site, {
        title,
        description: `Every past issue of ${site.name}. ${site.description}`,
        path: page === 1 ? '/archive' : `/archive?page=${page}`,
        type: 'website',
      }),
      after: subscribeCallToAction(site),
    }).header('cache-control', PUBLIC_CACHE);
  });

  server.get('/archive/feed.xml', async (_request, reply) => {
    const site = publicSiteOf(context);
    if (!site.archivePublic) return noIndex(reply);
    const { issues } = await listArchivedIssues(deps.db, PUBLISHED, { limit: FEED_ENTRIES, offset: 0 });
    const entries = await Promise.all(
      issues.map(async (row) => ({ issue: await publicIssueFor(row.week), publishedAt: row.publishedAt })),
    );
    const feed = archiveAtomFeed(
      site,
      entries.filter((entry): entry is { issue: PublicIssue; publishedAt: Date } => entry.issue !== null),
    );
    return reply
      .header('content-type', 'application/atom+xml; charset=utf-8')
      .header('cache-control', PUBLIC_CACHE)
      .send(feed);
  });

  server.get<{ Params: { week: string } }>('/archive/:week', async (request, reply) => {
    const { week } = request.params;
    if (!parseIsoWeek(week)) return notFound(reply);
    const issue = await publicIssueFor(week);
    if (!issue) return notFound(reply);
    const site = publicSiteOf(context);
    return sendPage(reply, 200, `${issue.subject} · ${issue.weekRange}`, publicIssueBody(issue), {
      heading: '',
      indexable: site.archivePublic,
      publicStyle: true,
      head: publicHead(site, {
        title: issue.subject,
        description: issue.description,
        path: publicIssuePath(week),
        type: 'article',
      }),
      after: subscribeCallToAction(site),
    }).header('cache-control', PUBLIC_CACHE);
  });

  server.get<{ Params: { week: string; segment: string } }>(
    '/archive/:week/:segment',
    async (request, reply) => {
      const { week, segment } = request.params;
      if (!parseIsoWeek(week) || !/^[a-z0-9-]+(\+[a-z0-9-]+)*$/.test(segment)) return notFound(reply);
      // Only the sets the issue went out with: any other key is a 404 before anything is rendered.
      const sent = await sentSetsOf(week);
      if (!sent?.keys.has(segment)) return notFound(reply);
      const key = `${week}/${segment}`;
      let page = pages.get(key);
      if (page === undefined) {
        let pending = rendering.get(key);
        if (!pending) {
          pending = renderPage(week, segment).finally(() => rendering.delete(key));
          rendering.set(key, pending);
        }
        const rendered = await pending;
        if (rendered === null) return notFound(reply);
        page = rendered;
        pages.set(key, page);
      }
      return reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', PUBLIC_CACHE)
        .send(page);
    },
  );

  /** The segment sets of a published issue with at least one message sent, cached (briefly while sending). */
  async function sentSetsOf(week: string): Promise<SentSets | null> {
    const cached = sentSets.get(week);
    if (cached) return cached;
    const issue = await findIssueState(deps.db, week);
    if (!issue || !(PUBLISHED as readonly string[]).includes(issue.status)) return null;
    const sets: SentSets = { keys: new Set(await sentSegmentKeys(deps.db, issue.id)) };
    if (sets.keys.size === 0) return null;
    // A finished issue's sets are final; while sending, a set appears once its first message went out.
    sentSets.set(week, sets, { ttl: issue.status === 'sent' ? SENT_SETS_TTL_MS : SENDING_SETS_TTL_MS });
    return sets;
  }

  /** The issue's public content (the union of its sent editions), built once per cached set of keys. */
  async function publicIssueFor(week: string): Promise<PublicIssue | null> {
    const sent = await sentSetsOf(week);
    if (!sent) return null;
    sent.issue ??= loadIssueContent(deps.db, week, deps.config.timeZone).then((content) =>
      content ? publicIssueOf(content, [...sent.keys]) : null,
    );
    const issue = await sent.issue.catch((error: unknown) => {
      sent.issue = undefined; // a database error is not remembered
      throw error;
    });
    return issue && (issue.outline.hero || issue.outline.sections.length > 0) ? issue : null;
  }

  async function renderPage(week: string, segment: string): Promise<string | null> {
    const content = await loadIssueContent(deps.db, week, deps.config.timeZone);
    if (!content) return null;
    const edition = editionFor(content, segmentSetFromKey(segment).slugs);
    if (!edition.hero && edition.sections.length === 0) return null;
    const copy = renderer().archiveCopy(edition);
    const site = publicSiteOf(context);
    const issue = await publicIssueFor(week);
    const head = html`${site.archivePublic ? '' : html`<meta name="robots" content="noindex">\n`}${publicHead(
      site,
      {
        title: copy.subject,
        description: issue?.description ?? copy.subject,
        path: publicIssuePath(week),
        type: 'article',
      },
    )}`;
    return withPublicFrame(copy.html, head, subscribeCallToAction(site));
  }

  let editionRenderer: EditionRenderer | undefined;
  function renderer(): EditionRenderer {
    editionRenderer ??= editionRendererFor(deps.config, { trackingEnabled: false });
    return editionRenderer;
  }
}
