import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import Fastify, { LogController } from 'fastify';
import { createMailer } from '../delivery/create-mailer.ts';
import type { Mailer } from '../delivery/mailer.ts';
import { UserError } from '../errors.ts';
import { loadSystemTemplates } from '../render/system-mail.ts';
import { startAnalyticsMaintenance } from '../reports/analytics-maintenance.ts';
import { createEventWriter, type EventWriterOptions } from '../tracking/event-writer.ts';
import { createLinkResolver } from '../tracking/link-resolver.ts';
import { registerArchiveRoutes } from './archive-routes.ts';
import { registerEditorRoutes } from './editor/editor-routes.ts';
import { answerClientError, answerFrameworkError, installErrorAnswers } from './error-answers.ts';
import { registerIngestRoutes } from './ingest-routes.ts';
import { registerKeepRoutes } from './keep-routes.ts';
import { registerPreferencesRoutes } from './preferences-routes.ts';
import { createRateLimiter } from './rate-limiter.ts';
import { addSecurityHeaders } from './security-headers.ts';
import { registerSignUpRoutes } from './signup-routes.ts';
import { registerTrackingRoutes } from './tracking-routes.ts';
import { registerUnsubscribeRoutes } from './unsubscribe-routes.ts';
import type { SystemMailRenderer, WebContext, WebDeps } from './web-context.ts';

export interface ServerOptions {
  /** Defaults to config.http.port; 0 picks a free port. */
  port?: number;
  /** Defaults to config.http.host (127.0.0.1 unless HOST says otherwise). */
  host?: string;
  /** Sends the sign-up mails; defaults to createMailer(config) and is then closed with the server. */
  mailer?: Mailer;
  /** Fastify's request log (off by default). */
  logger?: boolean;
  /** Renders the system mails; defaults to the project's MJML templates, loaded before the server starts. */
  systemMail?: SystemMailRenderer;
  /** Loads the system mail templates from this folder instead of the project's templates/. */
  templatesDir?: string;
  events?: EventWriterOptions;
  /** Defaults to config.trackingAckAfterWrite (TRACKING_ACK_AFTER_WRITE). */
  ackAfterWrite?: boolean;
  /** Sign-ups allowed per IP address and hour, per process (default 10). */
  signUpsPerHour?: number;
}

export interface RunningServer {
  url: string;
  /** Stops accepting requests, answers those in flight, then writes every queued event. */
  close(): Promise<void>;
}

/**
 * Starts the one HTTP server: tracking pixel and click redirect, one-click unsubscribe, preferences,
 * double opt-in sign-up, archive, plus the editor routes. Security headers on every response. Refuses to
 * start (a UserError naming the template) when a system mail template cannot be loaded.
 */
export async function startServer(deps: WebDeps, options: ServerOptions = {}): Promise<RunningServer> {
  // First, before anything that holds a socket or a timer: a server that cannot mail its readers'
  // confirmations must not start and answer "a confirmation link is on its way".
  const systemMail = options.systemMail ?? (await loadSystemMail(options.templatesDir));
  const server = Fastify({
    logger: options.logger ?? false,
    // A line per pixel hit would drown the errors and cost more than the request itself.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    trustProxy: trustProxyOption(deps.config.trustProxy),
    routerOptions: { maxParamLength: 200 },
    // fastify's own answers (bad %-encoding, over-long parameters) and the HTTP parser's (malformed
    // request, headers too large) carry the same short page and security headers as every other.
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  });
  const ownMailer = options.mailer ? undefined : createMailer(deps.config);
  const mailer = options.mailer ?? (ownMailer as Mailer);
  const ackAfterWrite = options.ackAfterWrite ?? deps.config.trackingAckAfterWrite;
  const events = createEventWriter(deps.db, {
    // Nobody waits for a batch unless answers wait for the write: then fewer, larger commits.
    maxDelayMs: ackAfterWrite ? 5 : 50,
    ...options.events,
    onError: (error, lost) => server.log.error({ err: error, lost }, 'tracking events not stored'),
  });
  const maintenance = startAnalyticsMaintenance(deps.db, {
    retentionDays: deps.config.trackingRetentionDays,
    log: (line) => server.log.info(line),
  });
  const context: WebContext = {
    deps,
    secrets: deps.config.secrets,
    events,
    ackAfterWrite,
    links: createLinkResolver(deps.db),
    mailer,
    systemMail,
    signUpLimiter: createRateLimiter(options.signUpsPerHour ?? 10, 3_600_000),
  };

  await server.register(formbody);
  await server.register(multipart, {
    attachFieldsToBody: 'keyValues',
    limits: { fields: 50, fieldSize: 4096, files: 0, fileSize: 0 },
  });
  addSecurityHeaders(server);
  installErrorAnswers(server);
  server.get('/healthz', async (_request, reply) => reply.header('cache-control', 'no-store').send('ok'));

  registerTrackingRoutes(server, context);
  registerUnsubscribeRoutes(server, context);
  registerPreferencesRoutes(server, context);
  registerKeepRoutes(server, context);
  registerSignUpRoutes(server, context);
  registerArchiveRoutes(server, context);
  await registerIngestRoutes(server, deps);
  await registerEditorRoutes(server, deps, { mailer, systemMail });

  const address = await server.listen({
    port: options.port ?? deps.config.http.port,
    host: options.host ?? deps.config.http.host,
  });
  let closing: Promise<void> | undefined;
  return {
    url: address,
    close() {
      closing ??= (async () => {
        // Requests in flight wait for their event to be stored: drain the writer while the server closes.
        const stopped = server.close();
        await events.close();
        await stopped;
        await events.flush();
        await maintenance.stop();
        await ownMailer?.close();
      })();
      return closing;
    },
  };
}

async function loadSystemMail(dir: string | undefined): Promise<SystemMailRenderer> {
  try {
    return await loadSystemTemplates(dir);
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw new UserError(`cannot start: a system mail template cannot be loaded: ${reason}`);
  }
}

/** TRUST_PROXY as fastify takes it: a hop count becomes "trust the nearest N hops". */
function trustProxyOption(
  value: boolean | number | string[] | undefined,
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof value === 'number') return (_address, hop) => hop < value;
  return value ?? false;
}
