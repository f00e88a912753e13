import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import type { Db } from '../db/database.ts';
import type { EditionSettings } from '../delivery/edition-messages.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { RenderedMessage } from '../render/rendered-message.ts';
import type { SystemTemplates } from '../render/system-mail.ts';
import type { ConsentContext } from '../subscribers/consent-log.ts';
import type { EventWriter } from '../tracking/event-writer.ts';
import type { LinkResolver } from '../tracking/link-resolver.ts';
import type { TokenSecrets } from '../tracking/token.ts';
import { html, type PageOptions, page, type SafeHtml } from './html.ts';
import type { RateLimiter } from './rate-limiter.ts';

/** The short system mails (sign-up confirmation, welcome, goodbye), rendered from their MJML templates. */
export type SystemMailRenderer = SystemTemplates;

/**
 * What the web server reads: HTTP and editor settings, sign-up limits, tracking, the edition it previews
 * and archives, the selection it rebuilds with.
 */
export type WebSettings = EditionSettings &
  Pick<
    Config,
    | 'env'
    | 'http'
    | 'publicUrlSet'
    | 'trustProxy'
    | 'trackingAckAfterWrite'
    | 'trackingDefault'
    | 'trackingRetentionDays'
    | 'trackingSpoolMaxBytes'
    | 'dataDir'
    | 'signUp'
    | 'publicPages'
    | 'cron'
    | 'send'
    | 'requireApproval'
    | 'timeZone'
    | 'selection'
    | 'testRecipients'
    | 'ingest'
    | 'webhooks'
    | 'softBounceLimit'
    | 'bounceSmtpPort'
    | 'bounceSmtpHost'
  >;

/** The database and the settings: what startServer and every route of the server take. */
export interface WebDeps {
  db: Db;
  config: WebSettings;
}

/** What every subscriber-facing route needs, built once by startServer. */
export interface WebContext {
  deps: WebDeps;
  secrets: TokenSecrets;
  events: EventWriter;
  /** Answer tracking requests only after their event is stored (else right away; flushed on close). */
  ackAfterWrite: boolean;
  links: LinkResolver;
  mailer: Mailer;
  /** Loaded before the server starts. */
  systemMail: SystemMailRenderer;
  signUpLimiter: RateLimiter;
  /** Feedback answers (POST /f/:token) per IP address. */
  feedbackLimiter: RateLimiter;
}

export function consentContext(request: FastifyRequest, source: string): ConsentContext {
  const agent = request.headers['user-agent'];
  return { ip: request.ip ?? null, userAgent: typeof agent === 'string' ? agent : null, source };
}

/** Sends a complete HTML page that is never cached (personal or stateful; an archive route sets its own). */
export function sendPage(
  reply: FastifyReply,
  status: number,
  title: string,
  body: SafeHtml,
  options?: PageOptions,
): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(page(title, body, options));
}

export function invalidLinkPage(reply: FastifyReply): FastifyReply {
  return sendPage(
    reply,
    404,
    'This link is not valid',
    html`<p>The link may be incomplete or out of date. Please use the most recent link from your email.</p>`,
  );
}

/** One string from a form field that may arrive as a string, an array (repeated key) or be missing. */
export function field(body: unknown, name: string): string | undefined {
  const value = fields(body, name)[0];
  return value;
}

/** Every value of a form field (urlencoded repeats or multipart). */
export function fields(body: unknown, name: string): string[] {
  if (!body || typeof body !== 'object') return [];
  const value = (body as Record<string, unknown>)[name];
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.filter((item): item is string => typeof item === 'string');
}

/** "jane.doe@example.com" -> "j•••@example.com": enough to recognise, not to harvest. */
export function maskEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@');
  return `${local.slice(0, 1)}•••@${domain}`;
}

type SystemMailKind = 'confirm' | 'welcome' | 'goodbye';

/** Renders one system mail with the sender's postal address. Throws when a variable is missing or bad. */
export function renderSystemMail(
  context: WebContext,
  kind: SystemMailKind,
  vars: Record<string, string>,
): RenderedMessage {
  return context.systemMail.render(kind, {
    postal_address: context.deps.config.sender.postalAddress,
    ...vars,
  });
}

/**
 * Hands a rendered system mail to the mailer. Never throws: a failure is logged and the answer is
 * false; true once the mailer took the message.
 */
export async function mailSystemMessage(
  context: WebContext,
  log: FastifyRequest['log'],
  kind: SystemMailKind,
  to: { subscriberId: string; email: string },
  message: RenderedMessage,
): Promise<boolean> {
  const { config } = context.deps;
  try {
    const result = await context.mailer.send({
      from: `"${config.sender.name.replace(/["\\\r\n]/g, '')}" <${config.sender.email}>`,
      to: to.email,
      subject: message.subject,
      html: message.html,
      text: message.text,
      headers: message.headers,
      messageId: `<${kind}.${to.subscriberId}.${Date.now().toString(36)}@${config.sender.bounceDomain}>`,
    });
    if (!result.ok) log.warn({ kind, reason: result.message }, 'system mail not sent');
    return result.ok;
  } catch (error) {
    log.error({ err: error, kind }, 'system mail failed');
    return false;
  }
}

/**
 * Renders and sends one system mail (confirm, welcome, goodbye) to a subscriber. Never throws: a
 * failure is logged and the answer is false; true once the mailer took the message.
 */
export async function sendSystemMail(
  context: WebContext,
  log: FastifyRequest['log'],
  kind: SystemMailKind,
  to: { subscriberId: string; email: string },
  vars: Record<string, string>,
): Promise<boolean> {
  let message: RenderedMessage;
  try {
    message = renderSystemMail(context, kind, vars);
  } catch (error) {
    log.error({ err: error, kind }, 'system mail failed');
    return false;
  }
  return mailSystemMessage(context, log, kind, to, message);
}
