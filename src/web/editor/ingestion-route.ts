import type { FastifyInstance } from 'fastify';
import { formatIsoWeek, isoWeekOf, weekBounds } from '../../calendar/iso-week.ts';
import { countStoriesPerSegment, listIngestRuns, listSources } from '../../stories/ingest.repository.ts';
import type { WebDeps } from '../web-context.ts';
import { sendEditorPage } from './editor-layout.ts';
import { ingestionBody } from './ingestion-page.ts';

/** GET /editor/ingestion: the feeds' last pulls, the last API batches, this week's stories per segment. */
export function registerIngestionRoute(editor: FastifyInstance, deps: WebDeps, now: () => Date): void {
  editor.get('/editor/ingestion', async (request, reply) => {
    const { config, db } = deps;
    const current = isoWeekOf(now(), config.timeZone);
    const { start, end } = weekBounds(current, config.timeZone);
    const [states, apiRuns, pulls, files, perSegment] = await Promise.all([
      listSources(db),
      listIngestRuns(db, 'api', 20),
      listIngestRuns(db, 'pull', 20),
      listIngestRuns(db, 'file', 10),
      countStoriesPerSegment(db, start, end),
    ]);
    const byUrl = new Map(states.map((state) => [state.url, state]));
    const configured = new Set(config.ingest.urls);
    const sources = [
      ...config.ingest.urls.map((url) => ({ url, configured: true, state: byUrl.get(url) ?? null })),
      ...states
        .filter((s) => !configured.has(s.url))
        .map((state) => ({ url: state.url, configured: false, state })),
    ];
    const otherRuns = [...pulls, ...files].sort((a, b) => b.finishedAt.getTime() - a.finishedAt.getTime());
    return sendEditorPage(
      reply,
      'Ingestion',
      ingestionBody({
        timeZone: config.timeZone,
        week: formatIsoWeek(current),
        apiEnabled: config.ingest.tokens.length > 0,
        sources,
        apiRuns,
        otherRuns: otherRuns.slice(0, 20),
        perSegment,
        minStoriesPerSegment: config.selection.minStoriesPerSegment,
      }),
      request,
    );
  });
}
