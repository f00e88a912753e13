import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../../db/database.ts';
import { relaySentCounts, rolloutByHour } from '../../delivery/delivery.repository.ts';
import { editionRendererFor } from '../../delivery/edition-messages.ts';
import type { EditorSender } from '../../delivery/editor-send.ts';
import { buildIssue, buildSettingsOf } from '../../issues/build-issue.ts';
import { findIssueRow, IssueStateError } from '../../issues/issue.repository.ts';
import { loadIssueContent } from '../../issues/issue-content.repository.ts';
import { type Edition, editionFor, type IssueContent } from '../../issues/issue-content.ts';
import { approveIssue, unapproveIssue } from '../../issues/issue-lifecycle.ts';
import {
  boostStory,
  clearOverrides,
  dropStory,
  listOverrides,
  pinStory,
  undoOverride,
} from '../../issues/issue-overrides.repository.ts';
import type { IssueReport } from '../../issues/issue-report.ts';
import { retractedStoriesOf } from '../../issues/issue-snapshot.ts';
import { saveIssueWriting } from '../../issues/issue-writing.repository.ts';
import { checkHeaderLine, checkNote, NO_WRITING } from '../../issues/issue-writing.ts';
import { saveSubjectVariant } from '../../issues/subject-variants.repository.ts';
import { formatAddress } from '../../mail/compose-mime.ts';
import type { Mailer } from '../../mail/mailer.ts';
import type { EditionRenderer } from '../../render/edition-renderer.ts';
import type { Recipient, RenderedMessage } from '../../render/rendered-message.ts';
import type { SystemTemplates } from '../../render/system-mail.ts';
import { listAudienceSegmentSets } from '../../reports/segment-sets.ts';
import { loadSubjectTestReport } from '../../reports/subject-test-report.ts';
import { parseSegmentSet, segmentSetFromKey } from '../../stories/segment-set.ts';
import { findStory, listSegments, sourceNamesOf } from '../../stories/story.repository.ts';
import { sendErrorPage } from '../error-answers.ts';
import { html } from '../html.ts';
import { field, type WebDeps } from '../web-context.ts';
import type { ReviewRow } from './approval-section.ts';
import { editorBaseUrl } from './editor-hosts.ts';
import { EDITOR_SCRIPT_PATH, sendEditorPage, weekParam } from './editor-layout.ts';
import { linksOf, parseView, preheaderOf, previewDocument } from './email-preview.ts';
import { goesOutOf } from './goes-out.ts';
import { type CandidateView, issueBody, type OverrideView, type ReadingBudgetRow } from './issue-page.ts';
import { issuePageScript } from './issue-page-script.ts';
import { checkLinks } from './link-check.ts';
import { sendViewOf } from './send-routes.ts';
import type { SubjectTestView } from './subject-test-section.ts';

/** Who the preview is personalised for: no subscriber behind it, tracking off, so links are the originals. */
const previewReader: Recipient = {
  subscriberId: '0',
  email: 'preview@example.invalid',
  name: null,
  trackingEnabled: false,
};
/** The size check measures a tracked copy with long ids: the largest HTML any reader receives. */
const sizeReader: Recipient = {
  subscriberId: '999999999',
  email: 'size@example.invalid',
  name: null,
  trackingEnabled: true,
};

interface IssueRouteOptions {
  mailer: Mailer;
  systemMail: SystemTemplates;
  now: () => Date;
  sender?: EditorSender;
}

/** The issue page, its preview documents and its forms: build, override, send a test, approve. */
// Long: the issue page's route table (page, previews, build, overrides, test send, approve); the handlers share one renderer and one mailer.
export async function registerIssueRoutes(
  editor: FastifyInstance,
  deps: WebDeps,
  options: IssueRouteOptions,
): Promise<void> {
  const { config, db } = deps;
  // The preview and test sends carry no feedback links (a vote from a test copy would be nobody's);
  // the size figure measures a reader's copy, which carries them.
  const renderer = editionRendererFor(config);
  const readerRenderer = editionRendererFor(config, { feedback: true });
  const { mailer } = options;

  const rebuild = (week: string) => buildIssue(db, { ...buildSettingsOf(config), week, now: options.now() });

  /**
   * The issue page. `withLinkCheck` (the POST below) also asks every link of the preview (outbound HEAD
   * requests): only a form of the editor's own page may cause that, so a GET never does.
   */
  async function issuePage(request: FastifyRequest, reply: FastifyReply, withLinkCheck: boolean) {
    const week = weekParam(request);
    if (!week) return sendEditorPage(reply.code(404), 'No such week', html`<p>Weeks look like 2026-W47.</p>`);
    const issue = await findIssueRow(db, week);
    const content = issue?.built_at ? await loadIssueContent(db, week, config.timeZone) : null;
    if (!issue || !content) {
      return sendEditorPage(
        reply,
        `Issue ${week}`,
        html`<p>This week has not been built yet.</p>
<form method="post" action="/editor/issues/${week}/build"><button type="submit">Build ${week}</button></form>`,
        request,
      );
    }
    const query = request.query as Record<string, unknown>;
    const sets = await segmentSetsOf(deps, content);
    const segmentKey = chooseSegmentKey(query.segments, content, sets);
    const edition = editionFor(content, segmentSetFromKey(segmentKey).slugs);
    const preview = previewMessage(renderer, edition);
    const sized = preview ? readerRenderer.personalise(readerRenderer.template(edition), sizeReader) : null;
    const report = (issue.selection_report ?? null) as IssueReport | null;
    const linkCheck = withLinkCheck && preview ? await checkLinks(linksOf(preview.html)) : null;
    return sendEditorPage(
      reply,
      `Issue ${week}`,
      issueBody({
        week,
        status: issue.status,
        statusReason: issue.status_reason,
        rollout:
          issue.status === 'draft' || issue.status === 'approved'
            ? []
            : await rolloutByHour(deps.db, issue.id),
        relays:
          issue.status === 'draft' || issue.status === 'approved'
            ? []
            : await relaySentCounts(deps.db, issue.id),
        approvedAt: issue.approved_at,
        timeZone: config.timeZone,
        segmentKey,
        segmentSets: sets,
        view: parseView(query.view),
        subject: preview?.subject ?? '(this segment set has no stories this week)',
        preheader: preview ? preheaderOf(preview.html) : '',
        senderName: config.sender.name,
        writing: content.writing ?? NO_WRITING,
        htmlBytes: sized ? Buffer.byteLength(sized.html) : 0,
        linkCount: preview ? linksOf(preview.html).length : 0,
        sections: content.sections,
        candidates: await candidatesOf(deps, content, report),
        notes: report?.notes ?? [],
        testRecipients: config.testRecipients,
        linkCheck,
        ...budgetAndReview(renderer, content, sets),
        goesOut: goesOutOf(config, week, options.now()),
        ...(await subjectTestViewOf(db, issue.id, week, content).then((subjectTest) =>
          subjectTest ? { subjectTest } : {},
        )),
        ...(await sendViewOf(deps, week, options.sender).then((send) => (send ? { send } : {}))),
        retracted: await retractedStoriesOf(db, issue.id),
        ...(await overridesOf(db, week, query.undo)),
      }),
      request,
    );
  }

  editor.get('/editor/issues/:week', (request, reply) => issuePage(request, reply, false));
  // Link checks send requests out: a POST, so the editor's origin checks apply (a cross-site GET does nothing).
  editor.post('/editor/issues/:week/check-links', (request, reply) => issuePage(request, reply, true));

  editor.get('/editor/issues/:week/email', async (request, reply) => {
    const week = weekParam(request);
    const content = week ? await loadIssueContent(db, week, config.timeZone) : null;
    if (!content) return reply.code(404).type('text/plain; charset=utf-8').send('no issue for this week');
    const query = request.query as Record<string, unknown>;
    const segmentKey = chooseSegmentKey(query.segments, content, await segmentSetsOf(deps, content));
    const preview = previewMessage(renderer, editionFor(content, segmentSetFromKey(segmentKey).slugs));
    if (!preview)
      return reply.type('text/plain; charset=utf-8').send('This segment set has no stories this week.');
    const document = previewDocument(preview, parseView(query.view));
    return reply.header('cache-control', 'no-store').type(document.contentType).send(document.body);
  });

  editor.post('/editor/issues/:week/build', async (request, reply) => {
    const week = weekParam(request);
    if (!week) return sendErrorPage(reply, 404);
    const build = await rebuild(week);
    const filled = build.content.sections.filter((s) => !s.skipped).length;
    return back(reply, request, week, {
      notice: `Built ${week}: ${filled} of ${build.content.sections.length} segments have stories.`,
    });
  });

  editor.get(EDITOR_SCRIPT_PATH, (_request, reply) =>
    reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(issuePageScript),
  );

  editor.post('/editor/issues/:week/overrides', async (request, reply) => {
    const week = weekParam(request);
    if (!week) return sendErrorPage(reply, 404);
    const outcome = await applyOverrideForm(deps, week, request.body);
    if ('status' in outcome)
      return sendEditorPage(reply.code(outcome.status), 'Unknown segment', html`<p>${outcome.message}</p>`);
    if ('error' in outcome) return back(reply, request, week, { error: outcome.error });
    await rebuild(week);
    return back(reply, request, week, outcome);
  });

  editor.post('/editor/issues/:week/writing', async (request, reply) => {
    const week = weekParam(request);
    if (!week) return sendErrorPage(reply, 404);
    const body = request.body;
    const note = checkNote(field(body, 'note') ?? '');
    const subject = checkHeaderLine(field(body, 'subject') ?? '', 'subject');
    const preheader = checkHeaderLine(field(body, 'preheader') ?? '', 'preheader');
    const refused = [note, subject, preheader].find((checked) => !checked.ok);
    if (refused && !refused.ok)
      return back(reply, request, week, { error: refused.error, anchor: 'writing' });
    if (!note.ok || !subject.ok || !preheader.ok) return sendErrorPage(reply, 400);
    try {
      await saveIssueWriting(
        db,
        week,
        { note: note.value, subject: subject.value, preheader: preheader.value },
        'editor',
      );
    } catch (error) {
      if (error instanceof IssueStateError)
        return back(reply, request, week, { error: error.message, anchor: 'writing' });
      throw error;
    }
    return back(reply, request, week, {
      notice: `Saved the note and subject of ${week}: every segment set’s preview shows them.`,
      anchor: 'writing',
    });
  });

  editor.post('/editor/issues/:week/subject-variants', async (request, reply) => {
    const week = weekParam(request);
    if (!week) return sendErrorPage(reply, 404);
    const body = request.body;
    const checked = (['B', 'C'] as const).map((variant) => ({
      variant,
      subject: checkHeaderLine(field(body, `subject-${variant}`) ?? '', 'subject'),
      preheader: checkHeaderLine(field(body, `preheader-${variant}`) ?? '', 'preheader'),
    }));
    for (const { subject, preheader } of checked) {
      const refused = [subject, preheader].find((c) => !c.ok);
      if (refused && !refused.ok)
        return back(reply, request, week, { error: refused.error, anchor: 'subject-test' });
    }
    try {
      for (const { variant, subject, preheader } of checked) {
        if (!subject.ok || !preheader.ok) return sendErrorPage(reply, 400);
        await saveSubjectVariant(
          db,
          week,
          variant,
          subject.value === null ? null : { subject: subject.value, preheader: preheader.value },
          'editor',
        );
      }
    } catch (error) {
      if (error instanceof IssueStateError)
        return back(reply, request, week, { error: error.message, anchor: 'subject-test' });
      throw error;
    }
    const count = checked.filter((c) => c.subject.ok && c.subject.value !== null).length;
    return back(reply, request, week, {
      notice:
        count === 0
          ? `No subject test for ${week}: every reader gets the subject.`
          : `Saved ${count} subject variant${count === 1 ? '' : 's'} of ${week}: the send tests ${count + 1} subjects on a share of the tracked readers.`,
      anchor: 'subject-test',
    });
  });

  editor.post('/editor/issues/:week/approve', async (request, reply) => {
    const week = weekParam(request);
    if (!week) return sendErrorPage(reply, 404);
    try {
      const body = request.body;
      const allowEmpty = field(body, 'allow_empty') === 'on';
      if (allowEmpty && (field(body, 'empty_reason') ?? '').trim() === '')
        return back(reply, request, week, {
          error: 'Say why the empty segments are acceptable (the reason is kept with the issue).',
          anchor: 'approval',
        });
      const issue = await approveIssue(db, week, {
        now: options.now(),
        timeZone: config.timeZone,
        allowEmpty,
        reason: field(body, 'empty_reason') ?? '',
      });
      return back(reply, request, week, {
        notice: `${week} is ${issue.status}: the selection, note and subject are frozen; it ${goesOutOf(config, week, options.now()).text}.`,
        anchor: 'approval',
      });
    } catch (error) {
      if (error instanceof IssueStateError)
        return back(reply, request, week, { error: error.message, anchor: 'approval' });
      throw error;
    }
  });

  editor.post('/editor/issues/:week/unapprove', async (request, reply) => {
    const week = weekParam(request);
    if (!week) return sendErrorPage(reply, 404);
    try {
      await unapproveIssue(db, week);
      return back(reply, request, week, {
        notice: `${week} is a draft again: its selection, note and subject can change; approve it again before it goes out.`,
        anchor: 'approval',
      });
    } catch (error) {
      if (error instanceof IssueStateError)
        return back(reply, request, week, { error: error.message, anchor: 'approval' });
      throw error;
    }
  });

  editor.post('/editor/issues/:week/test', async (request, reply) => {
    const week = weekParam(request);
    if (!week) return sendErrorPage(reply, 404);
    const recipient = (field(request.body, 'recipient') ?? '').trim().toLowerCase();
    if (!config.testRecipients.includes(recipient)) {
      return back(reply, request, week, { error: 'Tests go only to the addresses in TEST_RECIPIENTS.' });
    }
    const content = await loadIssueContent(db, week, config.timeZone);
    if (!content) return back(reply, request, week, { error: 'Build the issue first.' });
    const query = request.query as Record<string, unknown>;
    const segmentKey = chooseSegmentKey(query.segments, content, await segmentSetsOf(deps, content));
    const edition = editionFor(content, segmentSetFromKey(segmentKey).slugs);
    if (!edition.hero && edition.sections.length === 0) {
      return back(reply, request, week, { error: 'This segment set has no stories this week.' });
    }
    // Tracking off and no delivery row: a test is not counted anywhere and cannot stop the real send.
    const message = renderer.personalise(renderer.template(edition), { ...previewReader, email: recipient });
    const domain = config.sender.email.split('@')[1] ?? 'localhost';
    const result = await mailer.send({
      from: formatAddress(config.sender.name, config.sender.email),
      to: recipient,
      subject: `[TEST] ${message.subject}`,
      html: message.html,
      text: message.text,
      headers: { ...message.headers, 'X-Recap-Test': `${week} ${segmentKey}` },
      messageId: `<recap-test.${week}.${randomBytes(6).toString('hex')}@${domain}>`,
    });
    if (!result.ok) return back(reply, request, week, { error: `The test was not sent: ${result.message}` });
    // A short notice beside the copy says what it is and links back to this preview.
    const notice = options.systemMail.render('test-notice', {
      week,
      segment: edition.segments.map((s) => s.name).join(' + '),
      // From EDITOR_URL, never from the request: a Host header is the sender's to choose.
      preview_url: `${editorBaseUrl(config.http, request.socket.localPort ?? config.http.port)}/editor/issues/${week}?${new URLSearchParams({ segments: segmentKey })}`,
      postal_address: config.sender.postalAddress,
    });
    const noticeResult = await mailer.send({
      from: formatAddress(config.sender.name, config.sender.email),
      to: recipient,
      subject: notice.subject,
      html: notice.html,
      text: notice.text,
      headers: { 'X-Recap-Test': `${week} ${segmentKey}` },
      messageId: `<recap-test-notice.${week}.${randomBytes(6).toString('hex')}@${domain}>`,
    });
    const also = noticeResult.ok ? ' with a notice' : ` (the notice was not sent: ${noticeResult.message})`;
    return back(reply, request, week, { notice: `Test of ${segmentKey} sent to ${recipient}${also}.` });
  });
}

/** The reading-time table and the approval review: one template per segment set serves both. */
function budgetAndReview(
  renderer: EditionRenderer,
  content: IssueContent,
  sets: ReadonlyArray<{ segmentKey: string; label: string; subscribers: number }>,
): { readingBudget: ReadingBudgetRow[]; review: ReviewRow[] } {
  const readingBudget: ReadingBudgetRow[] = [];
  const review: ReviewRow[] = [];
  for (const set of sets) {
    const edition = editionFor(content, segmentSetFromKey(set.segmentKey).slugs);
    const base = { segmentKey: set.segmentKey, label: set.label, readers: set.subscribers };
    if (!edition.hero) {
      review.push({ ...base, stories: 0, minutes: 0, leftOut: [] });
      continue;
    }
    const template = renderer.template(edition);
    const shown = 1 + edition.sections.reduce((sum, section) => sum + section.stories.length, 0);
    const leftOutStories = template.leftOut.filter((item) => item.kind === 'story').length;
    readingBudget.push({
      ...base,
      minutes: template.minutes,
      htmlBytes: template.htmlBytes,
      leftOut: template.leftOut,
    });
    review.push({
      ...base,
      stories: shown - leftOutStories,
      minutes: template.minutes,
      leftOut: template.leftOut.map(
        (item) =>
          `${item.title} (${item.kind === 'developing' ? 'developing, ' : ''}${item.reason === 'size' ? 'size limit' : 'reading time'})`,
      ),
    });
  }
  return { readingBudget, review };
}

function previewMessage(renderer: EditionRenderer, edition: Edition): RenderedMessage | null {
  if (!edition.hero && edition.sections.length === 0) return null;
  return renderer.personalise(renderer.template(edition), previewReader);
}

/** The sets real readers follow (largest first), then each segment with stories alone. */
async function segmentSetsOf(deps: WebDeps, content: IssueContent) {
  const names = new Map(content.sections.map((s) => [s.segment.slug, s.segment.name]));
  const label = (key: string) =>
    segmentSetFromKey(key)
      .slugs.map((slug) => names.get(slug) ?? slug)
      .join(' + ');
  const audience = (await listAudienceSegmentSets(deps.db)).filter((set) =>
    segmentSetFromKey(set.segmentKey).slugs.every((slug) => names.has(slug)),
  );
  const known = new Set(audience.map((set) => set.segmentKey));
  const singles = content.sections
    .filter((s) => !s.skipped && !known.has(s.segment.slug))
    .map((s) => ({ segmentKey: s.segment.slug, subscribers: 0 }));
  return [...audience, ...singles].map((set) => ({ ...set, label: label(set.segmentKey) }));
}

function chooseSegmentKey(
  asked: unknown,
  content: IssueContent,
  sets: ReadonlyArray<{ segmentKey: string }>,
): string {
  const slugs = new Set(content.sections.map((s) => s.segment.slug));
  if (typeof asked === 'string' && parseSegmentSet(asked, slugs)) return asked;
  return (
    sets[0]?.segmentKey ??
    content.sections.find((s) => !s.skipped)?.segment.slug ??
    content.sections[0]?.segment.slug ??
    ''
  );
}

async function candidatesOf(
  deps: WebDeps,
  content: IssueContent,
  report: IssueReport | null,
): Promise<Map<number, CandidateView[]>> {
  const byName = new Map(content.sections.map((s) => [s.segment.name, s.segment.id]));
  const all = (report?.segments ?? []).flatMap((s) => s.candidates ?? []);
  const sourceOf = await sourceNamesOf(
    deps.db,
    all.map((c) => c.id),
  );
  const out = new Map<number, CandidateView[]>();
  for (const segment of report?.segments ?? []) {
    const id = byName.get(segment.segment);
    if (id === undefined) continue;
    out.set(
      id,
      (segment.candidates ?? []).map((c) => ({
        storyId: c.id,
        title: c.title,
        sourceName: sourceOf.get(c.id) ?? '',
        score: c.score,
        reasons: c.reasons,
      })),
    );
  }
  return out;
}

function back(
  reply: FastifyReply,
  request: FastifyRequest,
  week: string,
  message: { notice?: string; error?: string; undo?: number; anchor?: string },
): FastifyReply {
  const query = request.query as Record<string, unknown>;
  const params = new URLSearchParams();
  if (typeof query.segments === 'string') params.set('segments', query.segments);
  if (typeof query.view === 'string') params.set('view', query.view);
  if (message.notice) params.set('notice', message.notice);
  if (message.error) params.set('error', message.error);
  if (message.undo !== undefined) params.set('undo', String(message.undo));
  // Back to the segment the form was about, so the editor keeps their place without JavaScript too.
  return reply.redirect(
    `/editor/issues/${week}?${params.toString()}${message.anchor ? `#${message.anchor}` : ''}`,
    303,
  );
}

type OverrideOutcome =
  | { notice: string; undo?: number; anchor?: string }
  | { error: string }
  | { status: 400; message: string };

/**
 * One override form of the issue page: pin, move (a 1-based place), drop, boost, undo one, or clear all.
 * Every change is recorded as made in the editor. Bad input gets a message, never a 5xx.
 */
// Long: one switch over the form's actions, each a few lines of checks and one repository call.
async function applyOverrideForm(deps: WebDeps, week: string, body: unknown): Promise<OverrideOutcome> {
  const { db } = deps;
  const action = field(body, 'action');
  try {
    if (action === 'clear') {
      const removed = await clearOverrides(db, { week });
      return {
        notice: `Cleared ${removed} override${removed === 1 ? '' : 's'}. The issue was rebuilt.`,
        anchor: 'selection',
      };
    }
    if (action === 'undo') {
      const idText = field(body, 'override') ?? '';
      if (!/^\d{1,9}$/.test(idText)) return { error: 'That override does not exist.' };
      const undone = await undoOverride(db, week, Number(idText));
      if (!undone) return { error: 'That override was already undone.' };
      const story = await findStory(db, undone.storyId);
      const segment = undone.segmentId === null ? null : await segmentSlugOf(db, undone.segmentId);
      return {
        notice: `Undone: ${undone.kind} of “${story?.title ?? undone.storyId}”. The issue was rebuilt.`,
        anchor: segment ? `segment-${segment}` : 'selection',
      };
    }
    const segmentText = field(body, 'segment');
    if (segmentText && !/^\d{1,9}$/.test(segmentText)) return { error: 'That segment does not exist.' };
    const segmentId = segmentText ? Number(segmentText) : null;
    const slug = segmentId === null ? null : await segmentSlugOf(db, segmentId);
    if (segmentId !== null && slug === null)
      return { status: 400, message: `Segment ${segmentText} does not exist.` };
    const story = await findStory(db, field(body, 'story') ?? '');
    if (!story) return { error: 'That story does not exist.' };
    const target = { week, storyId: story.id, segmentId, createdBy: 'editor' as const };
    const anchor = slug ? `segment-${slug}` : 'selection';
    if (action === 'pin' || action === 'move') {
      const place =
        action === 'move' ? Number(field(body, 'place') ?? '') - 1 : Number(field(body, 'position') ?? '0');
      if (!Number.isInteger(place) || place < 0 || place > 1_000)
        return {
          error:
            action === 'move'
              ? 'A position is a whole number from 1 to 1001.'
              : 'A position is a whole number from 0 to 1000.',
        };
      const undo = await pinStory(db, { ...target, position: place });
      return {
        notice: `Pinned at place ${place + 1}: “${story.title}”. The issue was rebuilt.`,
        undo,
        anchor,
      };
    }
    if (action === 'drop') {
      const held = Number(field(body, 'held') ?? '');
      const heldAt = Number.isInteger(held) && held >= 0 && held <= 1_000 ? held : null;
      const undo = await dropStory(db, { ...target, heldAt });
      return { notice: `Dropped: “${story.title}”. The issue was rebuilt.`, undo, anchor };
    }
    if (action === 'boost') {
      const boost = Number(field(body, 'boost') ?? '');
      if (!Number.isFinite(boost) || Math.abs(boost) > 10)
        return { error: 'A boost is a number between -10 and 10.' };
      const undo = await boostStory(db, { ...target, boost });
      return { notice: `Boosted: “${story.title}”. The issue was rebuilt.`, undo, anchor };
    }
    return { error: 'Unknown action.' };
  } catch (error) {
    if (error instanceof IssueStateError) return { error: error.message };
    throw error;
  }
}

async function segmentSlugOf(db: Db, segmentId: number): Promise<string | null> {
  return (await listSegments(db)).find((segment) => segment.id === segmentId)?.slug ?? null;
}

/** The week's overrides with their stories' titles, and the one the last form made (for its Undo). */
async function overridesOf(
  db: Db,
  week: string,
  undo: unknown,
): Promise<{ overrides: OverrideView[]; lastChange: OverrideView | null }> {
  const stored = await listOverrides(db, week);
  const titles = new Map<string, string>();
  for (const id of new Set(stored.map((o) => o.storyId)))
    titles.set(id, (await findStory(db, id))?.title ?? id);
  const overrides = stored.map((o) => ({ ...o, title: titles.get(o.storyId) ?? o.storyId }));
  const lastChange = typeof undo === 'string' ? (overrides.find((o) => String(o.id) === undo) ?? null) : null;
  return { overrides, lastChange };
}

/** The subject variants of the issue (the snapshot's once approved) and its test, if a send started one. */
async function subjectTestViewOf(
  db: WebDeps['db'],
  issueId: number,
  week: string,
  content: IssueContent,
): Promise<SubjectTestView | null> {
  const report = await loadSubjectTestReport(db, { id: issueId, week });
  const variants = content.subjectVariants ?? [];
  return variants.length > 0 || report ? { variants, report } : null;
}
