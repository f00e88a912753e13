import type { FastifyInstance } from 'fastify';
import { emailFrameOf } from '../delivery/edition-messages.ts';
import { parseIsoWeek } from '../issues/iso-week.ts';
import { loadIssueContent } from '../issues/issue-content.repository.ts';
import { editionFor } from '../issues/issue-content.ts';
import { editionArchiveUrl } from '../render/archive-url.ts';
import { createEditionRenderer, type EditionRenderer } from '../render/edition-renderer.ts';
import { html } from './html.ts';
import { sendPage, type WebContext } from './web-context.ts';

/** Only issues that went out are public; drafts and approved issues stay in the editor. */
const PUBLISHED = ['sending', 'sent'] as const;
const CACHE_LIMIT = 200;

/**
 * GET /archive lists past issues and their editions; GET /archive/:week/:segment shows one edition as
 * sent (the segment key: slugs joined by '+'), without personal links or pixel. Sent issues do not change,
 * so a rendered page is kept in memory.
 */
export function registerArchiveRoutes(server: FastifyInstance, context: WebContext): void {
  const { app } = context;
  const rendered = new Map<string, string>();

  server.get('/archive', async (_request, reply) => {
    const rows = await app.db
      .selectFrom('issues')
      .innerJoin('deliveries', 'deliveries.issue_id', 'issues.id')
      .select(['issues.week', 'deliveries.segment_key'])
      .where('issues.status', 'in', [...PUBLISHED])
      .where('deliveries.status', '=', 'sent')
      .groupBy(['issues.week', 'deliveries.segment_key'])
      .orderBy('issues.week', 'desc')
      .orderBy('deliveries.segment_key')
      .limit(2_000)
      .execute();
    const weeks = new Map<string, string[]>();
    for (const row of rows) weeks.set(row.week, [...(weeks.get(row.week) ?? []), row.segment_key]);
    const body =
      weeks.size === 0
        ? html`<p>No issue has been sent yet.</p>`
        : html`<ul>${[...weeks].map(
            ([week, keys]) =>
              html`<li><strong>${week}</strong>: ${keys.map(
                (key, index) =>
                  html`${index > 0 ? ', ' : ''}<a href="${archivePath(week, key)}">${key.split('+').join(', ')}</a>`,
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
      const key = `${week}/${segment}`;
      let page = rendered.get(key);
      if (page === undefined) {
        const issue = await app.db
          .selectFrom('issues')
          .select('status')
          .where('week', '=', week)
          .executeTakeFirst();
        if (!issue || !(PUBLISHED as readonly string[]).includes(issue.status)) return notFound();
        const content = await loadIssueContent(app.db, week, app.config.timeZone);
        if (!content) return notFound();
        const edition = editionFor(content, segment.split('+'));
        if (!edition.hero && edition.sections.length === 0) return notFound();
        page = renderer().archiveCopy(edition).html;
        if (issue.status === 'sent') {
          if (rendered.size >= CACHE_LIMIT) rendered.delete(rendered.keys().next().value as string);
          rendered.set(key, page);
        }
      }
      return reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'public, max-age=300')
        .send(page);
    },
  );

  let editionRenderer: EditionRenderer | undefined;
  function renderer(): EditionRenderer {
    editionRenderer ??= createEditionRenderer({
      frame: emailFrameOf(app.config),
      secrets: app.config.secrets,
      trackingEnabled: false,
      maxHtmlBytes: app.config.maxHtmlBytes,
    });
    return editionRenderer;
  }

  function archivePath(week: string, segmentKey: string): string {
    return new URL(editionArchiveUrl('http://archive.invalid', week, segmentKey)).pathname;
  }
}
