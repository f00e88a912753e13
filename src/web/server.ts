import type { AddressInfo } from 'node:net';
import path from 'node:path';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import { missingEditorToken } from '../config.ts';
import { createDatabaseProbe } from '../db/database-probe.ts';
import type { EditorSender } from '../delivery/editor-send.ts';
import { ConfigError, UserError } from '../errors.ts';
import { defaultLinkBase, reachableUrl } from '../http-address.ts';
import type { Mailer } from '../mail/mailer.ts';
import { loadSystemTemplates } from '../render/system-mail.ts';
import { startAnalyticsMaintenance } from '../reports/analytics-maintenance.ts';
import { openEventSpool } from '../tracking/event-spool.ts';
import {
  createEventWriter,
  type EventWriter,
  type EventWriterOptions,
  type EventWriterStats,
  TrackingSpoolFullError,
} from '../tracking/event-writer.ts';
import { createLinkResolver } from '../tracking/link-resolver.ts';
import type { TextFetcher } from '../webhooks/ses-sns.ts';
import { registerArchiveRoutes } from './archive-routes.ts';
import { newEditorToken } from './editor/editor-auth.ts';
import { editorBaseUrl } from './editor/editor-hosts.ts';
import { registerEditorRoutes } from './editor/editor-routes.ts';
import { answerClientError, answerFrameworkError, installErrorAnswers } from './error-answers.ts';
import { registerFeedbackRoutes } from './feedback-routes.ts';
import { registerIngestRoutes } from './ingest-routes.ts';
import { registerKeepRoutes } from './keep-routes.ts';
import { registerPreferencesRoutes } from './preferences-routes.ts';
import { createRateLimiter } from './rate-limiter.ts';
import { addSecurityHeaders } from './security-headers.ts';
import { registerSignUpRoutes } from './signup-routes.ts';
import { registerTrackingRoutes } from './tracking-routes.ts';
import { registerUnsubscribeRoutes } from './unsubscribe-routes.ts';
import type { SystemMailRenderer, WebContext, WebDeps } from './web-context.ts';
import { registerWebhookRoutes } from './webhook-routes.ts';

/** The database, the settings, and the mailer of sign-up, welcome, goodbye and test mails (the caller closes it). */
export interface ServerDeps extends WebDeps {
  mailer: Mailer;
}

export interface ServerOptions {
  /** Defaults to config.http.port; 0 picks a free port. */
  port?: number;
  /** Defaults to config.http.host (127.0.0.1 unless HOST says otherwise). */
  host?: string;
  /** The service's logger (built by the CLI): errors and events as log records. Default: no log. */
  logger?: FastifyBaseLogger;
  /** Renders the system mails; defaults to the project's MJML templates, loaded before the server starts. */
  systemMail?: SystemMailRenderer;
  /** Loads the system mail templates from this folder instead of the project's templates/. */
  templatesDir?: string;
  events?: EventWriterOptions;
  /** Folder of this server's spool of events the database could not take; default RECAP_DATA_DIR/tracking-spool. */
  spoolDir?: string;
  /** Defaults to config.trackingAckAfterWrite (TRACKING_ACK_AFTER_WRITE). */
  ackAfterWrite?: boolean;
  /** Sign-ups allowed per IP address and hour, per process (default 10). */
  signUpsPerHour?: number;
  /** Feedback answers (POST /f/:token) allowed per IP address and hour, per process (default 120). */
  feedbackPerHour?: number;
  /** Fetches SNS signing certificates and SubscribeURLs for POST /webhooks/ses (built by the CLI). */
  fetchText?: TextFetcher;
  /** Starts and drains sends from the editor's Send section (built by the CLI); without it the page points at `recap send`. */
  editorSender?: EditorSender;
  /** The editor's clock ("this week", rebuilds, when an issue goes out); default the system clock. */
  now?: () => Date;
}

export interface RunningServer {
  /** Where to open it on this machine: the bound address, or localhost for a wildcard bind. */
  url: string;
  /** The address and port really bound, e.g. `0.0.0.0:3930`, `[::]:3930`, `127.0.0.1:3930`. */
  boundTo: string;
  /** The base of the links this server mails (PUBLIC_URL, else its own address with the bound port). */
  publicUrl: string;
  /** The tracking writer's counts since start (what /healthz shows; the metrics read them too). */
  trackingStats(): EventWriterStats;
  /**
   * Where editors open the editor: its address (EDITOR_URL, else this server's), and the token it asks
   * for: EDITOR_TOKEN, else one made for this start (`generated`), which the start line prints.
   */
  editor: { url: string; token: string; generated: boolean };
  /** Stops accepting requests, answers those in flight, then writes (or spools) every queued event. */
  close(): Promise<void>;
}

/**
 * Starts the one HTTP server: tracking pixel and click redirect, one-click unsubscribe, preferences,
 * double opt-in sign-up, archive, plus the editor routes. Security headers on every response. Refuses to
 * start (a UserError naming the template) when a system mail template cannot be loaded.
 */
// Long: the one place the server is assembled in order (templates, writer, context, plugins, routes, listen).
export async function startServer(deps: ServerDeps, options: ServerOptions = {}): Promise<RunningServer> {
  // First, before anything that holds a socket or a timer: a server that cannot mail its readers'
  // confirmations must not start and answer "a confirmation link is on its way".
  const noToken = missingEditorToken(deps.config);
  if (noToken) throw new ConfigError(noToken);
  const systemMail = options.systemMail ?? (await loadSystemMail(options.templatesDir));
  const server = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
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
  const { mailer } = deps;
  const ackAfterWrite = options.ackAfterWrite ?? deps.config.trackingAckAfterWrite;
  const events = createTrackingWriter(deps, options, ackAfterWrite, server.log);
  const maintenance = startAnalyticsMaintenance(deps.db, {
    retentionDays: deps.config.trackingRetentionDays,
    log: (line) => server.log.info(line),
  });
  // Routes read `served.config` on every request: with PUBLIC_URL unset, links follow the port really
  // bound once it is known (PORT=0 picks one at listen; a test may pass another port than PORT).
  // Without EDITOR_TOKEN, a token for this start only: being on this machine (a loopback peer) is never
  // enough, as a reverse proxy on it makes every visitor one.
  const editorToken = deps.config.http.editorToken ?? newEditorToken();
  const served: ServerDeps = {
    ...deps,
    config: { ...deps.config, http: { ...deps.config.http, editorToken } },
  };
  const context: WebContext = {
    deps: served,
    secrets: deps.config.secrets,
    events,
    ackAfterWrite,
    links: createLinkResolver(deps.db),
    mailer,
    systemMail,
    signUpLimiter: createRateLimiter(options.signUpsPerHour ?? 10, 3_600_000),
    feedbackLimiter: createRateLimiter(options.feedbackPerHour ?? 120, 3_600_000),
  };

  await server.register(formbody);
  await server.register(multipart, {
    attachFieldsToBody: 'keyValues',
    limits: { fields: 50, fieldSize: 4096, files: 0, fileSize: 0 },
  });
  addSecurityHeaders(server);
  installErrorAnswers(server);
  // Up, whether the database answers (one `select 1` a second at most, whatever the polling), and how
  // tracking copes: events waiting for the database, and any answered but not kept.
  const database = createDatabaseProbe(deps.db);
  server.get('/healthz', async (_request, reply) => {
    const { up } = await database.check();
    return reply
      .code(up ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({ status: up ? 'ok' : 'unavailable', database: up ? 'up' : 'down', tracking: events.stats() });
  });

  registerTrackingRoutes(server, context);
  registerUnsubscribeRoutes(server, context);
  registerPreferencesRoutes(server, context);
  registerKeepRoutes(server, context);
  registerFeedbackRoutes(server, context);
  registerSignUpRoutes(server, context);
  registerArchiveRoutes(server, context);
  await registerIngestRoutes(server, served);
  await registerWebhookRoutes(server, {
    db: deps.db,
    config: deps.config,
    fetchText: options.fetchText,
  });
  await registerEditorRoutes(server, served, {
    mailer,
    systemMail,
    ...(options.now ? { now: options.now } : {}),
    ...(options.editorSender ? { sender: options.editorSender } : {}),
  });

  const host = options.host ?? deps.config.http.host;
  await server.listen({ port: options.port ?? deps.config.http.port, host });
  // fastify's own answer names the first interface (127.0.0.1 for 0.0.0.0); the socket says what was bound.
  const bound = server.server.address() as AddressInfo;
  if (!deps.config.publicUrlSet) {
    served.config = { ...served.config, publicUrl: defaultLinkBase(host, bound.port) };
  }
  let closing: Promise<void> | undefined;
  return {
    url: reachableUrl(bound.address, bound.port),
    boundTo: `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`,
    publicUrl: served.config.publicUrl,
    trackingStats: () => events.stats(),
    editor: {
      url: editorBaseUrl(served.config.http, bound.port),
      token: editorToken,
      generated: deps.config.http.editorToken === undefined,
    },
    close() {
      closing ??= (async () => {
        // Requests in flight wait for their event to be stored: drain the writer while the server closes.
        const stopped = server.close();
        await events.close();
        await stopped;
        await events.flush();
        await maintenance.stop();
      })();
      return closing;
    },
  };
}

/**
 * The event writer of the tracking routes, with this process's spool of events the database could not
 * take (RECAP_DATA_DIR/tracking-spool): a full spool is logged every 10 s, a replay when it wrote.
 */
function createTrackingWriter(
  deps: WebDeps,
  options: ServerOptions,
  ackAfterWrite: boolean,
  log: FastifyBaseLogger,
): EventWriter {
  const spool = openEventSpool({
    dir: options.spoolDir ?? path.join(deps.config.dataDir, 'tracking-spool'),
    maxBytes: deps.config.trackingSpoolMaxBytes,
  });
  let lastFullLog = 0;
  let lastWaitLog = 0;
  const events = createEventWriter(deps.db, {
    // Nobody waits for a batch unless answers wait for the write: then fewer, larger commits.
    maxDelayMs: ackAfterWrite ? 5 : 50,
    spool,
    ...options.events,
    onError: (error, lost) => {
      if (!(error instanceof TrackingSpoolFullError)) {
        log.error({ err: error, lost }, 'tracking events not stored');
        return;
      }
      // Full for as long as the database stays away: a line every 10 s, not one per batch.
      if (Date.now() - lastFullLog < 10_000) return;
      lastFullLog = Date.now();
      const { notKept, spoolBytes } = events.stats();
      log.error(
        { notKept, spoolBytes, maxBytes: deps.config.trackingSpoolMaxBytes },
        `tracking spool full (TRACKING_SPOOL_MAX_BYTES): ${notKept} answered events not kept so far`,
      );
    },
    onReplay: (result) => {
      if (result.error && result.replayed === 0 && result.claimed.length === 0) {
        if (Date.now() - lastWaitLog < 30_000) return;
        lastWaitLog = Date.now();
        const reason = result.error instanceof Error ? result.error.message : String(result.error);
        log.warn(`tracking spool: ${spool.bytes} bytes of events wait for the database (${reason})`);
        return;
      }
      const claimed =
        result.claimed.length > 0 ? `; taken over from stopped servers: ${result.claimed.join(', ')}` : '';
      const unreadable = result.unreadable > 0 ? `; ${result.unreadable} unreadable lines skipped` : '';
      log.info(`tracking spool: ${result.replayed} events written to the database${claimed}${unreadable}`);
    },
  });
  return events;
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
