import type { FastifyInstance } from 'fastify';
import { KEEP_PAGE_TEXT, keepSubscription } from '../subscribers/sunset.ts';
import { verifyToken } from '../tracking/token.ts';
import { html } from './html.ts';
import { consentContext, invalidLinkPage, sendPage, type WebContext } from './web-context.ts';

/**
 * The keep link of the re-engagement mail. GET /keep/:token only shows a button (mail gateways'
 * link scanners follow links with GET, and must not answer for the reader); POST keeps the recap
 * coming and, for a reader already paused for inactivity, starts it again. Idempotent.
 */
export function registerKeepRoutes(server: FastifyInstance, context: WebContext): void {
  const { deps, secrets } = context;

  server.get<{ Params: { token: string } }>('/keep/:token', async (request, reply) => {
    if (!verifyToken(secrets, request.params.token, 'keep')) return invalidLinkPage(reply);
    return sendPage(
      reply,
      200,
      'Still want the recap?',
      html`<form method="post" action="/keep/${request.params.token}">
<p>One click and we keep sending you the Weekly AI Recap.</p>
<button type="submit">${KEEP_PAGE_TEXT}</button>
</form>`,
    );
  });

  server.post<{ Params: { token: string } }>('/keep/:token', async (request, reply) => {
    const payload = verifyToken(secrets, request.params.token, 'keep');
    if (!payload) return invalidLinkPage(reply);
    const result = await keepSubscription(deps.db, payload.subscriberId, consentContext(request, 'web'));
    if (!result.found) return invalidLinkPage(reply);
    if (!result.receiving) {
      // Unsubscribed, bounced or complained since: keeping is not a way back in (the preferences are).
      return sendPage(
        reply,
        200,
        'You are not receiving the recap',
        html`<p>This address is not subscribed to the Weekly AI Recap any more, so there is nothing to keep.</p>`,
      );
    }
    return sendPage(
      reply,
      200,
      'Thanks, the recap keeps coming',
      html`<p>Thank you: you will keep receiving the Weekly AI Recap.</p>`,
    );
  });
}
