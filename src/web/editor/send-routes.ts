import type { FastifyInstance } from 'fastify';
import type { EditorSender } from '../../delivery/editor-send.ts';
import { liveProgress } from '../../delivery/live-progress.ts';
import { cancelSend, pauseSend, resumeSend } from '../../delivery/send-control.ts';
import { UserError } from '../../errors.ts';
import { findIssueState, loadAudienceCounts } from '../../issues/issue.repository.ts';
import { sendErrorPage } from '../error-answers.ts';
import { html } from '../html.ts';
import { field, type WebDeps } from '../web-context.ts';
import { sendEditorPage, weekParam } from './editor-layout.ts';
import { type SendAction, type SendView, sendActionLabels, sendConfirmation } from './send-section.ts';

const ACTIONS: readonly SendAction[] = ['start', 'pause', 'resume', 'cancel'];

/** What the issue page shows of a week's send (null before the issue is built). */
export async function sendViewOf(
  deps: WebDeps,
  week: string,
  sender: EditorSender | undefined,
): Promise<SendView | null> {
  const issue = await findIssueState(deps.db, week);
  if (!issue || issue.builtAt === null) return null;
  const started = !['draft', 'approved', 'scheduled'].includes(issue.status);
  const canStart =
    issue.status === 'approved' ||
    issue.status === 'scheduled' ||
    (issue.status === 'draft' && !deps.config.requireApproval);
  return {
    progress: started ? await liveProgress(deps.db, { ...issue, week }) : null,
    canStart,
    canSendHere: sender !== undefined,
  };
}

/**
 * Start, pause, resume and cancel from the editor, each confirmed on a page of its own (a plain form
 * without JavaScript), and the live progress as JSON for the page's script.
 */
// Long: one handler per step (ask, then act) over four actions; each action is a line or two.
export function registerSendRoutes(
  editor: FastifyInstance,
  deps: WebDeps,
  sender: EditorSender | undefined,
): void {
  const { db } = deps;

  editor.get('/editor/issues/:week/progress.json', async (request, reply) => {
    const week = weekParam(request);
    const issue = week ? await findIssueState(db, week) : undefined;
    if (!week || !issue) return reply.code(404).send({ error: 'no issue for this week' });
    const progress = await liveProgress(db, { ...issue, week });
    return reply.header('cache-control', 'no-store').send(progress);
  });

  editor.post('/editor/issues/:week/send', async (request, reply) => {
    const week = weekParam(request);
    if (!week) return sendErrorPage(reply, 404);
    const action = field(request.body, 'action') as SendAction | undefined;
    if (!action || !ACTIONS.includes(action))
      return sendEditorPage(
        reply.code(400),
        'Unknown action',
        html`<p>Send actions are start, pause, resume and cancel.</p>`,
      );
    const issue = await findIssueState(db, week);
    if (!issue) return sendEditorPage(reply.code(404), `Issue ${week}`, html`<p>This week has no issue.</p>`);
    const done = (message: { notice?: string; error?: string }) => {
      const params = new URLSearchParams(message as Record<string, string>);
      return reply.redirect(`/editor/issues/${week}?${params.toString()}#send`, 303);
    };
    if (field(request.body, 'confirmed') !== 'yes') {
      const readers = (
        await db
          .selectFrom('subscribers')
          .select(db.fn.countAll<string>().as('n'))
          .where('status', '=', 'active')
          .executeTakeFirst()
      )?.n;
      const detail =
        action === 'start'
          ? `About ${readers ?? 0} active readers get it, ${sender ? 'sent by a worker of this server unless another worker is alive' : ''}.`
          : 'A worker of this server continues it when no other worker is alive.';
      return sendEditorPage(
        reply,
        `${sendActionLabels[action]}: ${week}`,
        sendConfirmation(week, action, detail),
        request,
      );
    }
    try {
      if (action === 'start') {
        if (!sender) return done({ error: `This server cannot start sends: run recap send --week ${week}` });
        const started = await sender.start(week);
        return done({
          notice: `Sending ${week} to ${started.audience?.eligible ?? 0} readers${started.inProcessWorker ? ' with this server’s worker' : ' with the workers alive'}.`,
        });
      }
      if (action === 'pause') {
        const paused = await pauseSend(db, issue.id, 'paused in the editor');
        return done(
          paused
            ? { notice: `Paused the send of ${week}.` }
            : { error: `The send of ${week} is ${issue.status}: nothing to pause.` },
        );
      }
      if (action === 'resume') {
        if (!(await resumeSend(db, issue.id)))
          return done({ error: `The send of ${week} is ${issue.status}: nothing to resume.` });
        const here = sender ? await sender.drain(week) : false;
        return done({ notice: `Resumed the send of ${week}${here ? ' with this server’s worker' : ''}.` });
      }
      const cancelled = await cancelSend(db, issue.id, 'cancelled in the editor');
      if (cancelled === null)
        return done({ error: `The send of ${week} is ${issue.status}: nothing to cancel.` });
      const audience = await loadAudienceCounts(db, issue.id);
      return done({
        notice: `Cancelled the send of ${week}: ${cancelled} of ${audience?.eligible ?? '?'} messages will not go out.`,
      });
    } catch (error) {
      if (error instanceof UserError) return done({ error: error.message });
      throw error;
    }
  });
}
