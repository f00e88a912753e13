import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { normalizeHttpUrl } from '../stories/story.ts';
import { type TokenSecrets, verifyClickToken, verifyToken } from '../tracking/token.ts';
import { html } from './html.ts';
import { invalidLinkPage, sendPage, type WebContext } from './web-context.ts';

/** A transparent 1×1 GIF (43 bytes). */
export const PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

function agentOf(request: FastifyRequest): string | null {
  const agent = request.headers['user-agent'];
  return typeof agent === 'string' ? agent : null;
}

/**
 * GET /o/:token: always the pixel with 200 (a bad token records nothing). GET /c/:token: 302 to the
 * link registered for (issue, position); anything forged or unknown gets a 404 page, never a redirect.
 * Events go to the batch writer; the answer waits for the write only with ackAfterWrite (else the
 * event is queued, written within milliseconds, and flushed by close()). With ackAfterWrite the answer
 * comes once the event is in PostgreSQL or fsynced to the spool, else it is a 503 with Retry-After.
 */
export function registerTrackingRoutes(server: FastifyInstance, context: WebContext): void {
  const { secrets, events, links, deps, ackAfterWrite } = context;
  /** Queues the event; with ackAfterWrite, waits and says whether it was kept (else a 503 is due). */
  const record = async (event: Parameters<typeof events.record>[0]): Promise<boolean> => {
    const stored = events.record(event);
    if (ackAfterWrite) return kept(stored);
    stored.catch(countedByWriter);
    return true;
  };

  server.get<{ Params: { token: string } }>('/o/:token', async (request, reply) => {
    const token = request.params.token.replace(/\.gif$/, '');
    const payload = verifyToken(secrets, token, 'open');
    if (payload?.issueId !== undefined && deps.config.trackingEnabled) {
      const answered = await record({
        kind: 'open',
        issueId: payload.issueId,
        subscriberId: payload.subscriberId,
        linkPosition: null,
        linkKind: null,
        method: request.method,
        ip: request.ip,
        userAgent: agentOf(request),
        occurredAt: new Date(),
      });
      if (!answered) return notKeptAnswer(reply);
    }
    return reply
      .header('content-type', 'image/gif')
      .header('cache-control', 'no-store, no-cache, must-revalidate, private')
      .header('expires', '0')
      .send(PIXEL_GIF);
  });

  server.get<{ Params: { token: string } }>('/c/:token', async (request, reply) => {
    const payload = clickPayload(secrets, request.params.token);
    if (!payload) return invalidLinkPage(reply);
    const link = await links.resolve(payload.issueId, payload.link);
    if (!link) return invalidLinkPage(reply);
    if (deps.config.trackingEnabled) {
      const answered = await record({
        kind: 'click',
        issueId: payload.issueId,
        subscriberId: payload.subscriberId,
        linkPosition: payload.link,
        linkKind: link.kind,
        method: request.method,
        ip: request.ip,
        userAgent: agentOf(request),
        occurredAt: new Date(),
      });
      if (!answered) return notKeptAnswer(reply);
    }
    if (link.kind === 'honeypot') {
      return sendPage(reply, 200, 'Nothing here', html`<p>This link is not meant to be followed.</p>`);
    }
    // Stored URLs are already encoded; one from before that (or a collision the migration left alone)
    // is encoded here, so odd characters can never make an invalid header.
    const location = normalizeHttpUrl(link.url);
    if (!location) return invalidLinkPage(reply);
    return reply.code(302).header('location', location).header('cache-control', 'no-store').send();
  });
}

/** Whether the event is stored or fsynced to the spool. */
function kept(stored: Promise<void>): Promise<boolean> {
  return stored.then(
    () => true,
    () => false,
  );
}

// The writer logs and counts every event it could not keep (GET /healthz shows the count).
function countedByWriter(): void {}

/** TRACKING_ACK_AFTER_WRITE: an event neither stored nor spooled is never answered with a success. */
function notKeptAnswer(reply: FastifyReply): FastifyReply {
  return sendPage(
    reply.header('retry-after', '10'),
    503,
    'Please try again',
    html`<p>This could not be recorded just now. Please try the link again in a moment.</p>`,
  );
}

/** Click tokens come in the per-recipient batch format (`k.…`) or the generic one (kind click). */
function clickPayload(
  secrets: TokenSecrets,
  token: string,
): { subscriberId: string; issueId: number; link: number } | null {
  if (token.startsWith('k.')) return verifyClickToken(secrets, token);
  const payload = verifyToken(secrets, token, 'click');
  if (payload?.issueId === undefined || payload.link === undefined) return null;
  return { subscriberId: payload.subscriberId, issueId: payload.issueId, link: payload.link };
}
