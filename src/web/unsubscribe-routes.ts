import type { FastifyInstance } from 'fastify';
import { findSubscriber } from '../subscribers/subscriber.repository.ts';
import { resubscribeSubscriber, unsubscribeSubscriber } from '../subscribers/subscription-changes.ts';
import { PROBE_HEADERS, PROBE_SUBSCRIBER_ID } from '../tracking/probe-token.ts';
import { signToken, verifyToken } from '../tracking/token.ts';
import { html } from './html.ts';
import {
  consentContext,
  field,
  invalidLinkPage,
  maskEmail,
  sendPage,
  sendSystemMail,
  type WebContext,
} from './web-context.ts';

const CONFIRM_QUESTION = 'Unsubscribe from the weekly recap?';

/**
 * RFC 8058 / RFC 2369 unsubscribe. GET /u/:token only shows a confirm button (link scanners fetch every
 * URL, so a GET never unsubscribes). POST /u/:token with `List-Unsubscribe=One-Click` (urlencoded or
 * multipart) unsubscribes at once, idempotently, with 200 and no redirect; `action=resubscribe` undoes it.
 */
// Long: the unsubscribe route table (page, one-click POST, resubscribe), each handler short.
export function registerUnsubscribeRoutes(server: FastifyInstance, context: WebContext): void {
  const { deps, secrets } = context;

  async function subscriberOf(token: string) {
    const payload = verifyToken(secrets, token, 'unsubscribe');
    if (!payload) return null;
    const subscriber = await findSubscriber(deps.db, payload.subscriberId);
    return subscriber ? { payload, subscriber } : null;
  }

  server.get<{ Params: { token: string } }>('/u/:token', async (request, reply) => {
    const found = await subscriberOf(request.params.token);
    if (!found) return invalidLinkPage(reply);
    if (!['active', 'pending', 'sunset'].includes(found.subscriber.status)) {
      return sendPage(
        reply,
        200,
        'You are unsubscribed',
        html`<p>${maskEmail(found.subscriber.email)} receives no more recaps.</p>`,
      );
    }
    return sendPage(
      reply,
      200,
      CONFIRM_QUESTION,
      html`<p>${maskEmail(found.subscriber.email)} will no longer receive the weekly recap.</p>
<form method="post" action="/u/${request.params.token}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<input type="hidden" name="action" value="unsubscribe">
<button type="submit">Unsubscribe</button>
</form>
<p class="muted">Prefer fewer topics or a break? <a href="/p/${preferencesToken(found.subscriber.id)}">Change your preferences</a>.</p>`,
    );
  });

  server.post<{ Params: { token: string } }>('/u/:token', async (request, reply) => {
    // `recap doctor`'s probe: a valid signature for the reserved id 0, answered without touching any row.
    // It also says which client address the server derived (TRUST_PROXY applied), so doctor can tell
    // whether readers behind the proxy are seen as themselves; only a holder of RECAP_SECRET can ask.
    if (verifyToken(secrets, request.params.token, 'unsubscribe')?.subscriberId === PROBE_SUBSCRIBER_ID) {
      reply.header(PROBE_HEADERS.client, request.ip);
      reply.header(PROBE_HEADERS.peer, request.socket.remoteAddress ?? '');
      reply.header(PROBE_HEADERS.forwarded, forwardedFor(request.headers['x-forwarded-for']));
      return sendPage(
        reply,
        200,
        'Unsubscribe works',
        html`<p>This was a check: nobody was unsubscribed.</p>`,
      );
    }
    const found = await subscriberOf(request.params.token);
    if (!found) return invalidLinkPage(reply);
    const { subscriber, payload } = found;
    const action = field(request.body, 'action');
    const oneClick = field(request.body, 'List-Unsubscribe') === 'One-Click';
    if (action === 'resubscribe') {
      const { changed } = await resubscribeSubscriber(
        deps.db,
        subscriber.id,
        consentContext(request, 'web'),
        {
          issueId: payload.issueId ?? null,
          shown: 'undo button on the unsubscribe page',
        },
      );
      if (!changed && subscriber.status !== 'active') {
        return sendPage(
          reply,
          409,
          'Cannot resubscribe here',
          html`<p>This address cannot be resubscribed from this page.</p>`,
        );
      }
      return sendPage(
        reply,
        200,
        'Welcome back',
        html`<p>${maskEmail(subscriber.email)} will receive the weekly recap again.</p>`,
      );
    }
    if (!oneClick && action !== 'unsubscribe') {
      return sendPage(
        reply,
        400,
        'Nothing to do',
        html`<p>Use the button on the <a href="/u/${request.params.token}">unsubscribe page</a>.</p>`,
      );
    }
    const { changed } = await unsubscribeSubscriber(
      deps.db,
      subscriber.id,
      consentContext(request, action === 'unsubscribe' ? 'web' : 'one-click'),
      {
        issueId: payload.issueId ?? null,
        shown:
          action === 'unsubscribe' ? CONFIRM_QUESTION : 'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
      },
    );
    // The goodbye mail must not hold up a one-click answer: it is logged if it fails.
    if (changed) {
      void sendSystemMail(
        context,
        request.log,
        'goodbye',
        { subscriberId: subscriber.id, email: subscriber.email },
        {
          preferences_url: `${deps.config.publicUrl}/p/${preferencesToken(subscriber.id)}`,
        },
      );
    }
    return sendPage(
      reply,
      200,
      'You are unsubscribed',
      html`<p>${maskEmail(subscriber.email)} will receive no more recaps.</p>
<form method="post" action="/u/${request.params.token}">
<input type="hidden" name="action" value="resubscribe">
<button type="submit">Undo: keep receiving the recap</button>
</form>
<p>Or <a href="/p/${preferencesToken(subscriber.id)}">keep only some topics</a>.</p>`,
    );
  });

  function preferencesToken(subscriberId: string): string {
    return signToken(secrets, { kind: 'preferences', subscriberId });
  }
}

/** The X-Forwarded-For chain as received (one header value, at most 512 characters). */
function forwardedFor(value: string | string[] | undefined): string {
  const joined = Array.isArray(value) ? value.join(', ') : (value ?? '');
  return joined.slice(0, 512);
}
