import type { FastifyInstance } from 'fastify';
import { listSegments } from '../stories/story.repository.ts';
import { eraseSubscriber, exportSubscriberById } from '../subscribers/erasure.ts';
import {
  loadSubscriberPreferences,
  type SubscriberPreferences,
  setTracking,
  unsubscribeSubscriber,
  updatePreferences,
} from '../subscribers/subscription-changes.ts';
import { verifyToken } from '../tracking/token.ts';
import { html } from './html.ts';
import {
  consentContext,
  field,
  fields,
  invalidLinkPage,
  maskEmail,
  sendPage,
  type WebContext,
} from './web-context.ts';

const PAUSE_CHOICES = [0, 1, 2, 4, 8, 12];
/** The pause menu's entry for "as it is now". */
const KEEP_PAUSE = 'keep';
const MAX_INT4 = 2_147_483_647;
/** The tracking choice as the preference centre words it; stored with every change in the consent log. */
export const TRACKING_CHOICE_TEXT =
  'Count my opens and clicks (a tiny image and redirecting links tell us which stories you read).';
const DELETE_CONFIRM_TEXT =
  'Delete me: erase my address, preferences and reading history for good. This cannot be undone.';

/**
 * GET/POST /p/:token: choose segments, pause for N weeks, choose whether opens and clicks are counted, or
 * unsubscribe from everything. POST /p/:token/export downloads everything stored as JSON; GET
 * /p/:token/delete asks for confirmation, POST erases (POST only: link scanners only GET).
 */
// Long: the preferences page's route table (show, save, unsubscribe, resubscribe), each handler short.
export function registerPreferencesRoutes(server: FastifyInstance, context: WebContext): void {
  const { deps, secrets } = context;

  async function render(token: string, preferences: SubscriberPreferences, notice: string | null) {
    const segments = await listSegments(deps.db);
    const followed = new Set(preferences.segmentIds);
    const paused =
      preferences.pausedUntil && preferences.pausedUntil > new Date() ? preferences.pausedUntil : null;
    const subscribed = preferences.status === 'active';
    const sunset = preferences.status === 'sunset';
    return html`${notice ? html`<p role="status"><strong>${notice}</strong></p>` : ''}
<p>Preferences for ${maskEmail(preferences.email)}.${sunset ? html` <strong>Your recap is paused because you had not opened it for a while</strong>; saving your topics below starts it again.` : subscribed ? '' : html` <strong>You are not receiving the recap</strong>; choosing topics below subscribes you again.`}</p>
${paused ? html`<p>Paused until ${paused.toISOString().slice(0, 10)}.</p>` : ''}
<form method="post" action="/p/${token}">
<fieldset><legend>Topics</legend>
${segments.map(
  (segment) =>
    html`<label><input type="checkbox" name="segment" value="${segment.id}"${followed.has(segment.id) ? html` checked` : ''}> ${segment.name}</label>`,
)}
</fieldset>
<fieldset><legend>Take a break</legend>
<label>Pause for <select name="pause_weeks">
${paused ? html`<option value="${KEEP_PAUSE}" selected>paused until ${paused.toISOString().slice(0, 10)}</option>` : ''}
${PAUSE_CHOICES.map((weeks) => html`<option value="${weeks}"${weeks === 0 && !paused ? html` selected` : ''}>${weeks === 0 ? (paused ? 'no pause (resume now)' : 'no pause') : `${weeks} week${weeks > 1 ? 's' : ''}`}</option>`)}
</select></label>
</fieldset>
<fieldset><legend>Privacy</legend>
<label><input type="checkbox" name="tracking" value="yes"${preferences.trackingEnabled ? html` checked` : ''}> ${TRACKING_CHOICE_TEXT}</label>
</fieldset>
<input type="hidden" name="tracking_shown" value="yes">
<button type="submit" name="action" value="save">Save preferences</button>
</form>
<form method="post" action="/p/${token}">
<button type="submit" name="action" value="unsubscribe">Unsubscribe from all</button>
</form>
<h2>Your data</h2>
<form method="post" action="/p/${token}/export">
<button type="submit">Download my data</button>
</form>
<p><a href="/p/${token}/delete">Delete me</a>: erase my address and everything stored about me.</p>`;
  }

  server.get<{ Params: { token: string } }>('/p/:token', async (request, reply) => {
    const payload = verifyToken(secrets, request.params.token, 'preferences');
    const preferences = payload && (await loadSubscriberPreferences(deps.db, payload.subscriberId));
    if (!preferences) return invalidLinkPage(reply);
    return sendPage(
      reply,
      200,
      'Your recap preferences',
      await render(request.params.token, preferences, null),
    );
  });

  server.post<{ Params: { token: string } }>('/p/:token', async (request, reply) => {
    const payload = verifyToken(secrets, request.params.token, 'preferences');
    const current = payload && (await loadSubscriberPreferences(deps.db, payload.subscriberId));
    if (!payload || !current) return invalidLinkPage(reply);
    const action = field(request.body, 'action') ?? 'save';
    if (action === 'unsubscribe') {
      await unsubscribeSubscriber(deps.db, current.id, consentContext(request, 'web'), {
        shown: 'Unsubscribe from all (preferences page)',
      });
      const after = (await loadSubscriberPreferences(deps.db, current.id)) ?? current;
      return sendPage(
        reply,
        200,
        'You are unsubscribed',
        await render(request.params.token, after, 'You will receive no more recaps.'),
      );
    }
    if (action !== 'save') return sendPage(reply, 400, 'Nothing to do', html`<p>Unknown action.</p>`);
    // Validated at the edge: a number PostgreSQL cannot hold (segments.id is an integer) is a bad form.
    const segmentTexts = fields(request.body, 'segment');
    if (!segmentTexts.every((text) => /^[1-9][0-9]{0,9}$/.test(text) && Number(text) <= MAX_INT4)) {
      return sendPage(reply, 400, 'Nothing to do', html`<p>Choose topics from the list.</p>`);
    }
    const segmentIds = segmentTexts.map(Number);
    // The menu starts on the stored pause: saving topics or tracking keeps it unless the reader picked
    // another entry. A form without the menu (an old page, a script) keeps it too.
    const pauseChoice = field(request.body, 'pause_weeks') ?? KEEP_PAUSE;
    const pauseWeeks = pauseChoice === KEEP_PAUSE ? undefined : Number(pauseChoice);
    if (pauseWeeks !== undefined && !PAUSE_CHOICES.includes(pauseWeeks)) {
      return sendPage(reply, 400, 'Nothing to do', html`<p>Choose a pause from the list.</p>`);
    }
    const consent = consentContext(request, 'web');
    // An unticked checkbox sends nothing: only a form that showed the choice may turn tracking off.
    if (field(request.body, 'tracking_shown') === 'yes') {
      await setTracking(
        deps.db,
        current.id,
        field(request.body, 'tracking') === 'yes',
        consent,
        TRACKING_CHOICE_TEXT,
      );
    }
    const updated = await updatePreferences(deps.db, current.id, { segmentIds, pauseWeeks }, consent);
    if (!updated) return invalidLinkPage(reply);
    const notice =
      updated.segmentIds.length === 0 && updated.status === 'active'
        ? 'Saved. Choose at least one topic to receive the recap.'
        : 'Your preferences are saved.';
    return sendPage(
      reply,
      200,
      'Your recap preferences',
      await render(request.params.token, updated, notice),
    );
  });

  server.post<{ Params: { token: string } }>('/p/:token/export', async (request, reply) => {
    const payload = verifyToken(secrets, request.params.token, 'preferences');
    const data = payload && (await exportSubscriberById(deps.db, payload.subscriberId));
    if (!data) return invalidLinkPage(reply);
    return reply
      .code(200)
      .header('content-type', 'application/json; charset=utf-8')
      .header('content-disposition', 'attachment; filename="weekly-ai-recap-my-data.json"')
      .header('cache-control', 'no-store')
      .send(JSON.stringify(data, null, 2));
  });

  server.get<{ Params: { token: string } }>('/p/:token/delete', async (request, reply) => {
    const payload = verifyToken(secrets, request.params.token, 'preferences');
    const current = payload && (await loadSubscriberPreferences(deps.db, payload.subscriberId));
    if (!current) return invalidLinkPage(reply);
    return sendPage(
      reply,
      200,
      'Delete your data?',
      html`<p>${DELETE_CONFIRM_TEXT}</p>
<p>Past issues' totals keep counting your deliveries anonymously; nothing links them to you.</p>
<form method="post" action="/p/${request.params.token}/delete">
<label><input type="checkbox" name="confirm" value="yes" required> Yes, delete ${maskEmail(current.email)}</label>
<button type="submit">Delete me</button>
</form>
<p><a href="/p/${request.params.token}">Back to my preferences</a></p>`,
    );
  });

  server.post<{ Params: { token: string } }>('/p/:token/delete', async (request, reply) => {
    const payload = verifyToken(secrets, request.params.token, 'preferences');
    if (!payload) return invalidLinkPage(reply);
    const current = await loadSubscriberPreferences(deps.db, payload.subscriberId);
    if (!current) {
      // Already erased (a second click, a reload): say so rather than "invalid link".
      return sendPage(reply, 200, 'Your data is deleted', html`<p>Nothing is stored about you any more.</p>`);
    }
    if (field(request.body, 'confirm') !== 'yes') {
      return sendPage(
        reply,
        400,
        'Nothing was deleted',
        html`<p>Tick the box to confirm. <a href="/p/${request.params.token}/delete">Back</a></p>`,
      );
    }
    await eraseSubscriber(deps.db, current.email, { ip: null, userAgent: null, source: 'web' });
    request.log.info({ action: 'erased', source: 'web' }, 'subscriber erased on request');
    return sendPage(
      reply,
      200,
      'Your data is deleted',
      html`<p>Your address, preferences and reading history are erased. You will receive nothing more from us.</p>`,
    );
  });
}
