import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  formatIsoWeek,
  isoWeekOf,
  parseIsoWeek,
  previousIsoWeek,
  weekBounds,
} from '../../calendar/iso-week.ts';
import type { EditorSender } from '../../delivery/editor-send.ts';
import { loadIssueFeedback } from '../../feedback/feedback.repository.ts';
import { leadHeadlines } from '../../issues/issue-content.repository.ts';
import type { Mailer } from '../../mail/mailer.ts';
import type { SystemTemplates } from '../../render/system-mail.ts';
import { formatWeekRange } from '../../render/week-range.ts';
import { loadIssueStats, loadWeeklySeries } from '../../reports/issue-stats.ts';
import { type IssueSummary, listIssueSummaries } from '../../reports/issue-summaries.ts';
import { loadPersonalOrderReport } from '../../reports/personal-order-report.ts';
import { listFires } from '../../schedule/run-coordinator.ts';
import { SCHEDULE_NAME } from '../../schedule/schedule-runner.ts';
import { listSegments } from '../../stories/story.repository.ts';
import { countSunsetReaders, loadSunsetByWeek } from '../../subscribers/sunset.ts';
import { html } from '../html.ts';
import type { WebDeps } from '../web-context.ts';
import { dashboardBody, issueStatsSection } from './dashboard-page.ts';
import { checkEditorAccess, EDITOR_COOKIE, newEditorToken } from './editor-auth.ts';
import { allowedEditorHosts, isEditorHost } from './editor-hosts.ts';
import { formatDateTime, sendEditorPage, weekParam } from './editor-layout.ts';
import { feedbackSection } from './feedback-section.ts';
import { goesOutOf } from './goes-out.ts';
import { registerIngestionRoute } from './ingestion-route.ts';
import { registerIssueRoutes } from './issue-routes.ts';
import { personalOrderSection } from './personal-order-section.ts';
import { registerReadersRoutes } from './readers-routes.ts';
import { registerSendRoutes } from './send-routes.ts';
import { scheduleBody, type WeekLine, weeksBody } from './weeks-page.ts';

export interface EditorRouteOptions {
  /** Sends the "Send test" mails. */
  mailer: Mailer;
  /** Renders the notice beside a test send (loaded by startServer before it listens). */
  systemMail: SystemTemplates;
  /** The clock of "this week" and of rebuilds. */
  now?: () => Date;
  /** Starts and drains sends from the issue page; without it the page points at `recap send`. */
  sender?: EditorSender;
}

/**
 * Editor preview, approval and dashboard routes: `/` (the weeks), `/editor/...`. Every one of them
 * first needs a Host of EDITOR_HOSTS (421 otherwise), then the editor's token (EDITOR_TOKEN, else the one startServer made); the subscriber
 * routes registered beside them stay public.
 */
// Long: the editor's guard (host, access) and its route table, registered in one plugin scope.
export async function registerEditorRoutes(
  server: FastifyInstance,
  deps: WebDeps,
  options: EditorRouteOptions,
): Promise<void> {
  const hostsByPort = new Map<number, ReadonlySet<string>>();
  const secureCookie = deps.config.http.editorUrl?.startsWith('https:') ? '; Secure' : '';
  // startServer always sets one (EDITOR_TOKEN, or one made for this start); without it nobody gets in.
  const editorToken = deps.config.http.editorToken ?? newEditorToken();
  await server.register(async (editor) => {
    editor.addHook('onRequest', async (request, reply) => {
      // First of all, before any handler or body parser: a name we do not know is a rebinding page.
      const port = request.socket.localPort ?? deps.config.http.port;
      let allowed = hostsByPort.get(port);
      if (!allowed) {
        allowed = allowedEditorHosts(deps.config.http, port);
        hostsByPort.set(port, allowed);
      }
      if (!isEditorHost(request.headers.host, allowed)) {
        return sendEditorPage(
          reply.code(421),
          'Not allowed',
          html`<p>The editor does not answer to this host name. Open it at one of EDITOR_HOSTS.</p>`,
        );
      }
      const query = request.query as Record<string, unknown>;
      const access = checkEditorAccess(
        {
          method: request.method,
          host: request.headers.host,
          origin: header(request, 'origin'),
          secFetchSite: header(request, 'sec-fetch-site'),
          authorization: header(request, 'authorization'),
          cookieHeader: header(request, 'cookie'),
          queryToken: typeof query.token === 'string' ? query.token : undefined,
        },
        editorToken,
      );
      if (!access.ok) {
        return sendEditorPage(reply.code(access.status), 'Not allowed', html`<p>${access.reason}</p>`);
      }
      if (access.setCookie) {
        // The token leaves the address bar at once: a cookie carries it from now on.
        const url = new URL(request.url, 'http://editor.invalid');
        url.searchParams.delete('token');
        reply.header(
          'set-cookie',
          `${EDITOR_COOKIE}=${encodeURIComponent(editorToken)}; Path=/; HttpOnly; SameSite=Strict${secureCookie}`,
        );
        if (request.method === 'GET') return reply.redirect(`${url.pathname}${url.search}`, 303);
      }
    });

    const now = options.now ?? (() => new Date());

    editor.get('/', async (request, reply) => {
      const issues = await listIssueSummaries(deps.db);
      const current = isoWeekOf(now(), deps.config.timeZone);
      const candidates = [formatIsoWeek(current), formatIsoWeek(previousIsoWeek(current))];
      const unbuilt = candidates.filter((week) => !issues.some((i) => i.week === week && i.builtAt !== null));
      const fires = await listFires(deps.db, SCHEDULE_NAME, 5);
      return sendEditorPage(
        reply,
        'Weeks',
        html`${weeksBody(issues, unbuilt, deps.config.timeZone, await weekLines(deps, issues, now()))}${scheduleBody(fires, deps.config.timeZone)}`,
        request,
      );
    });

    editor.get('/editor/dashboard', async (request, reply) => {
      const series = await loadWeeklySeries(deps.db, 12);
      const latestWeek = series[series.length - 1]?.week;
      const latest = latestWeek ? await loadIssueStats(deps.db, latestWeek) : null;
      const sunset = { weeks: await loadSunsetByWeek(deps.db), pausedNow: await countSunsetReaders(deps.db) };
      return sendEditorPage(
        reply,
        'Dashboard',
        dashboardBody(series, latest, sunset, await segmentNamesOf(deps)),
        request,
      );
    });

    editor.get('/editor/issues/:week/stats', async (request, reply) => {
      const week = weekParam(request);
      const stats = week ? await loadIssueStats(deps.db, week) : null;
      if (!stats)
        return sendEditorPage(
          reply.code(404),
          'No such issue',
          html`<p>There is no issue for this week.</p>`,
        );
      const names = await segmentNamesOf(deps);
      return sendEditorPage(
        reply,
        `Stats ${stats.week}`,
        html`<p><a href="/editor/issues/${stats.week}">Back to the preview</a></p>${issueStatsSection(stats, names)}${personalOrderSection(await loadPersonalOrderReport(deps.db, stats.issueId))}${feedbackSection(await loadIssueFeedback(deps.db, stats.issueId), names)}`,
        request,
      );
    });

    await registerIssueRoutes(editor, deps, {
      mailer: options.mailer,
      systemMail: options.systemMail,
      now,
      ...(options.sender ? { sender: options.sender } : {}),
    });
    registerSendRoutes(editor, deps, options.sender);
    registerIngestionRoute(editor, deps, now);
    registerReadersRoutes(editor, deps);
  });
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Segment names by slug, so segment sets are shown as editors named them. */
async function segmentNamesOf(deps: WebDeps): Promise<Map<string, string>> {
  return new Map((await listSegments(deps.db)).map((segment) => [segment.slug, segment.name]));
}

/** Each listed week's dates, lead headline and when it goes out (or went out). */
async function weekLines(
  deps: WebDeps,
  issues: readonly IssueSummary[],
  now: Date,
): Promise<Map<string, WeekLine>> {
  const { timeZone } = deps.config;
  const leads = await leadHeadlines(
    deps.db,
    issues.map((issue) => issue.week),
  );
  const lines = new Map<string, WeekLine>();
  for (const issue of issues) {
    const week = parseIsoWeek(issue.week);
    if (!week) continue;
    const { start, end } = weekBounds(week, timeZone);
    const goesOut =
      issue.status === 'sent'
        ? `sent ${formatDateTime(issue.sendFinishedAt, timeZone)}`
        : issue.status === 'sending'
          ? `sending since ${formatDateTime(issue.sendStartedAt, timeZone)}`
          : issue.status === 'paused' || issue.status === 'cancelled'
            ? issue.status
            : `${issue.status === 'draft' && deps.config.requireApproval ? 'once approved, ' : ''}${goesOutOf(deps.config, issue.week, now).text.replace(/^goes out /, '')}`;
    lines.set(issue.week, {
      range: formatWeekRange(start, end, timeZone),
      lead: leads.get(issue.week) ?? null,
      goesOut,
    });
  }
  return lines;
}
