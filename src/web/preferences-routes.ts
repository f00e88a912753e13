import type { FastifyInstance } from 'fastify';
import { listSegments } from '../stories/story.repository.ts';
import {
  loadSubscriberPreferences,
  type SubscriberPreferences,
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
const MAX_INT4 = 2_147_483_647;

/** GET/POST /p/:token: choose segments, pause for N weeks, or unsubscribe from everything. */
export function registerPreferencesRoutes(server: FastifyInstance, context: WebContext): void {
  const { app, secrets } = context;

  async function render(token: string, preferences: SubscriberPreferences, notice: string | null) {
    const segments = await listSegments(app.db);
    const followed = new Set(preferences.segmentIds);
    const paused =
      preferences.pausedUntil && preferences.pausedUntil > new Date() ? preferences.pausedUntil : null;
    const subscribed = preferences.status === 'active';
    return html`${notice ? html`<p role="status"><strong>${notice}</strong></p>` : ''}
<p>Preferences for ${maskEmail(preferences.email)}.${subscribed ? '' : html` <strong>You are not receiving the recap</strong>; choosing topics below subscribes you again.`}</p>
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
${PAUSE_CHOICES.map((weeks) => html`<option value="${weeks}">${weeks === 0 ? 'no pause' : `${weeks} week${weeks > 1 ? 's' : ''}`}</option>`)}
</select></label>
</fieldset>
<button type="submit" name="action" value="save">Save preferences</button>
</form>
<form method="post" action="/p/${token}">
<button type="submit" name="action" value="unsubscribe">Unsubscribe from all</button>
</form>`;
  }

  server.get<{ Params: { token: string } }>('/p/:token', async (request, reply) => {
    const payload = verifyToken(secrets, request.params.token, 'preferences');
    const preferences = payload && (await loadSubscriberPreferences(app.db, payload.subscriberId));
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
    const current = payload && (await loadSubscriberPreferences(app.db, payload.subscriberId));
    if (!payload || !current) return invalidLinkPage(reply);
    const action = field(request.body, 'action') ?? 'save';
    if (action === 'unsubscribe') {
      await unsubscribeSubscriber(app.db, current.id, consentContext(request, 'web'), {
        shown: 'Unsubscribe from all (preferences page)',
      });
      const after = (await loadSubscriberPreferences(app.db, current.id)) ?? current;
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
    const pauseWeeks = Number(field(request.body, 'pause_weeks') ?? 0);
    if (!PAUSE_CHOICES.includes(pauseWeeks)) {
      return sendPage(reply, 400, 'Nothing to do', html`<p>Choose a pause from the list.</p>`);
    }
    const updated = await updatePreferences(
      app.db,
      current.id,
      { segmentIds, pauseWeeks },
      consentContext(request, 'web'),
    );
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
}
