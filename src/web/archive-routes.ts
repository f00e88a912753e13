import type { FastifyInstance } from 'fastify';
import { LRUCache } from 'lru-cache';
import { parseIsoWeek } from '../calendar/iso-week.ts';
import { listSentEditions, sentSegmentKeys } from '../delivery/delivery.repository.ts';
import { editionRendererFor } from '../delivery/edition-messages.ts';
import { findIssueState } from '../issues/issue.repository.ts';
import { loadIssueContent } from '../issues/issue-content.repository.ts';
import { editionFor } from '../issues/issue-content.ts';
import { editionArchiveUrl } from '../render/archive-url.ts';
import type { EditionRenderer } from '../render/edition-renderer.ts';
import { segmentSetFromKey } from '../stories/segment-set.ts';
import { html } from './html.ts';
import { sendPage, type WebContext } from './web-context.ts';

/** Only issues that went out are public; drafts and approved issues stay in the editor. */
const PUBLISHED = ['sending', 'sent'] as const;
const PAGE_CACHE_ENTRIES = 500;
const PAGE_CACHE_BYTES = 32 * 1024 * 1024;
const SENT_SETS_ENTRIES = 500;
const SENT_SETS_TTL_MS = 3_600_000;
const SENDING_SETS_TTL_MS = 30_000;

interface SentSets {
  keys: ReadonlySet<string>;
}

/**
 * GET /archive lists past issues and their editions; GET /archive/:week/:segment shows one edition as
 * sent (the segment key: slugs joined by '+'), without personal links or pixel. Only segment sets the
 * issue was sent with exist (others are 404 before any rendering). An issue's content is frozen once it
 * sends, so rendered pages, of issues sent or still sending, are kept in a bounded LRU cache.
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

  server.get('/archive', async (_request, reply) => {
    const rows = await listSentEditions(deps.db, PUBLISHED, 2_000);
    const weeks = new Map<string, string[]>();
    for (const row of rows) weeks.set(row.week, [...(weeks.get(row.week) ?? []), row.segment_key]);
    const body =
      weeks.size === 0
        ? html`<p>No issue has been sent yet.</p>`
        : html`<ul>${[...weeks].map(
            ([week, keys]) =>
              html`<li><strong>${week}</strong>: ${keys.map(
                (key, index) =>
                  html`${index > 0 ? ', ' : ''}<a href="${archivePath(week, key)}">${segmentSetFromKey(key).slugs.join(', ')}</a>`,
              )}</li>`,
          )}</ul>`;
    return sendPage(reply, 200, 'Weekly AI Recap archive', body).header(
      'cache-control',
      'public, max-age=300',
    );
  });

  server.get<{ Params: { week: string; segment: string } }>(
    '/archive/:week/:segment',
    async (request, reply) => {
      const { week, segment } = request.params;
      const notFound = () =>
        sendPage(
          reply,
          404,
          'Not in the archive',
          html`<p>There is no such issue. <a href="/archive">See all issues</a>.</p>`,
        );
      if (!parseIsoWeek(week) || !/^[a-z0-9-]+(\+[a-z0-9-]+)*$/.test(segment)) return notFound();
      // Only the sets the issue went out with: any other key is a 404 before anything is rendered.
      const sent = await sentSetsOf(week);
      if (!sent?.keys.has(segment)) return notFound();
      const key = `${week}/${segment}`;
      let page = pages.get(key);
      if (page === undefined) {
        let pending = rendering.get(key);
        if (!pending) {
          pending = renderPage(week, segment).finally(() => rendering.delete(key));
          rendering.set(key, pending);
        }
        const rendered = await pending;
        if (rendered === null) return notFound();
        page = rendered;
        pages.set(key, page);
      }
      return reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'public, max-age=300')
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
    // A finished issue's sets are final; while sending, a set appears once its first message went out.
    sentSets.set(week, sets, { ttl: issue.status === 'sent' ? SENT_SETS_TTL_MS : SENDING_SETS_TTL_MS });
    return sets;
  }

  async function renderPage(week: string, segment: string): Promise<string | null> {
    const content = await loadIssueContent(deps.db, week, deps.config.timeZone);
    if (!content) return null;
    const edition = editionFor(content, segmentSetFromKey(segment).slugs);
    if (!edition.hero && edition.sections.length === 0) return null;
    return renderer().archiveCopy(edition).html;
  }

  let editionRenderer: EditionRenderer | undefined;
  function renderer(): EditionRenderer {
    editionRenderer ??= editionRendererFor(deps.config, { trackingEnabled: false });
    return editionRenderer;
  }

  function archivePath(week: string, segmentKey: string): string {
    return new URL(editionArchiveUrl('http://archive.invalid', week, segmentKey)).pathname;
  }
}
