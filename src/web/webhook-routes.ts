import type { KeyObject } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import type { Db } from '../db/database.ts';
import { UserError } from '../errors.ts';
import { actOnRelayEvents } from '../webhooks/act-on-relay-events.ts';
import { verifyMailgun } from '../webhooks/mailgun.ts';
import { verifyPostmark } from '../webhooks/postmark.ts';
import type { Verification, WebhookProvider, WebhookRequest } from '../webhooks/relay-event.ts';
import { sendGridPublicKey, verifySendGrid } from '../webhooks/sendgrid.ts';
import { CertificateUnavailableError, type TextFetcher, verifySesSns } from '../webhooks/ses-sns.ts';
import { verifyStandardWebhook } from '../webhooks/standard-webhooks.ts';
import { recordWebhookEvent } from '../webhooks/webhook-event.repository.ts';

export interface WebhookDeps {
  db: Db;
  config: Pick<Config, 'webhooks' | 'secrets' | 'softBounceLimit' | 'bounceSmtpPort' | 'bounceSmtpHost'>;
  /** Fetches SNS signing certificates and SubscribeURLs (built by the CLI); /webhooks/ses is off without it. */
  fetchText: TextFetcher | undefined;
  now?: () => Date;
}

type Verifier = (request: WebhookRequest) => Verification | Promise<Verification>;

/** Body limits per route: an SNS message is at most 256 KB; SendGrid posts batches of events. */
const BODY_LIMITS: Record<WebhookProvider, number> = {
  ses: 256 * 1024,
  sendgrid: 1024 * 1024,
  mailgun: 256 * 1024,
  postmark: 256 * 1024,
  resend: 256 * 1024,
  standard: 256 * 1024,
};

/**
 * POST /webhooks/<provider> for each provider whose secret is configured (any other answers 404): the
 * raw body is verified by the provider's own scheme (401 unsigned, 403 forged, stale or replayed, and
 * nothing changes), then each event acts once through the DSN/ARF bounce and complaint logic. An event
 * for a message we did not send is logged and answered 200, so the provider does not retry it forever.
 * Throws a UserError at start-up for a SendGrid key that is not one.
 */
export async function registerWebhookRoutes(server: FastifyInstance, deps: WebhookDeps): Promise<void> {
  const verifiers = webhookVerifiers(deps);
  await server.register(async (api) => {
    // The signatures cover the bytes as sent: every body reaches the handler as a Buffer, unparsed.
    api.removeAllContentTypeParsers();
    api.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    api.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
      const status =
        error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 503;
      if (status === 503) request.log.error({ err: error }, 'webhook not handled');
      return answer(reply, status, {
        error: status === 413 ? 'body too large' : status === 503 ? 'try again later' : 'bad request',
      });
    });
    for (const [provider, verify] of verifiers) {
      api.post(`/webhooks/${provider}`, { bodyLimit: BODY_LIMITS[provider] }, (request, reply) =>
        handle(deps, provider, verify, request, reply),
      );
    }
  });
}

async function handle(
  deps: WebhookDeps,
  provider: WebhookProvider,
  verify: Verifier,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const nowSeconds = Math.floor((deps.now?.() ?? new Date()).getTime() / 1000);
  let verified: Verification;
  try {
    verified = await verify({ headers: request.headers, body, nowSeconds });
  } catch (error) {
    if (!(error instanceof CertificateUnavailableError)) throw error;
    request.log.warn({ provider }, error.message);
    return answer(reply.header('retry-after', '60'), 503, { error: 'try again later' });
  }
  if (!verified.ok) {
    request.log.warn({ provider, status: verified.status }, `webhook refused: ${verified.reason}`);
    return answer(reply, verified.status, { error: verified.status === 401 ? 'unauthorized' : 'forbidden' });
  }
  if (
    verified.nonce !== undefined &&
    !(await recordWebhookEvent(deps.db, `${provider}:nonce`, verified.nonce))
  ) {
    request.log.warn({ provider }, 'webhook refused: its signature token was used before (a replay)');
    return answer(reply, 403, { error: 'forbidden' });
  }
  const outcomes = await actOnRelayEvents(deps, provider, verified.events);
  for (const outcome of outcomes) {
    if (outcome.kind === 'dropped')
      request.log.info({ provider }, `webhook event dropped: ${outcome.reason}`);
    else if (outcome.kind !== 'duplicate') request.log.info({ provider, outcome }, 'webhook event acted on');
  }
  return answer(reply, 200, { received: verified.events.length });
}

/** The providers whose secret is configured, each with its verifier. */
function webhookVerifiers(deps: WebhookDeps): Map<WebhookProvider, Verifier> {
  const { webhooks } = deps.config;
  const verifiers = new Map<WebhookProvider, Verifier>();
  const { fetchText } = deps;
  if (webhooks.sesTopicArns.length > 0 && fetchText) {
    const settings = { topicArns: webhooks.sesTopicArns, fetchText, certificates: new Map() };
    verifiers.set('ses', (request) => verifySesSns(settings, request));
  }
  if (webhooks.sendgridPublicKey) {
    let key: KeyObject;
    try {
      key = sendGridPublicKey(webhooks.sendgridPublicKey);
    } catch (error) {
      throw new UserError(`cannot start: ${(error as Error).message}`);
    }
    verifiers.set('sendgrid', (request) => verifySendGrid(key, request));
  }
  const { mailgunSigningKey, postmark, resendSecret, standardSecret } = webhooks;
  if (mailgunSigningKey) verifiers.set('mailgun', (request) => verifyMailgun(mailgunSigningKey, request));
  if (postmark) verifiers.set('postmark', (request) => verifyPostmark(postmark, request));
  if (resendSecret) verifiers.set('resend', (request) => verifyStandardWebhook(resendSecret, request));
  if (standardSecret) verifiers.set('standard', (request) => verifyStandardWebhook(standardSecret, request));
  return verifiers;
}

function answer(reply: FastifyReply, status: number, body: Record<string, unknown>): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').send(body);
}
