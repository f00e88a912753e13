import { createHash, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withdrawFromUnsentIssues } from '../issues/issue-snapshot.ts';
import { type IngestRun, recordIngestRun, runOfOutcome } from '../stories/ingest.repository.ts';
import { findStory, retractStories } from '../stories/story.repository.ts';
import { unstorableTextReason } from '../stories/story.ts';
import { type ImportOutcome, INVALID_RECORD_LIMIT, importStories } from '../stories/story-import.ts';
import { InputTooLargeError, readStoryRecords } from '../stories/story-stream.ts';
import {
  BodyStalledError,
  CompressedBodyError,
  createUploadSlots,
  SlowBodyError,
  type SpooledBody,
  spoolBody,
  type UploadRules,
} from './ingest-upload.ts';
import type { WebDeps } from './web-context.ts';

export interface IngestRouteOptions {
  now?: () => Date;
}

/**
 * The ingestion API under /api: `POST /api/stories` (a JSON array, one object, or NDJSON, received whole
 * into a spool file first, within a minimum rate and a number of uploads per token, then read as a stream
 * and written in batches in one transaction; all or nothing unless `?skipInvalid=true`) and `DELETE /api/stories/:id`
 * (retract). Bearer INGEST_TOKEN (or a previous one) compared in constant time; without INGEST_TOKEN the
 * routes do not exist. Every answer is JSON, never a page.
 */
// Long: the ingestion API's route table; its handlers share the token check and the rate limiter.
export async function registerIngestRoutes(
  server: FastifyInstance,
  deps: WebDeps,
  options: IngestRouteOptions = {},
): Promise<void> {
  const { config, db } = deps;
  const now = options.now ?? (() => new Date());
  const tokens = config.ingest.tokens.map(digest);
  const limiter = createTokenLimiter(config.ingest.ratePerMinute, 60_000);
  const uploads = createUploadSlots(config.ingest.concurrentUploads);
  const uploadRules: UploadRules = {
    spoolDir: path.join(config.dataDir, 'ingest-spool'),
    maxBytes: config.ingest.maxBytes,
    idleMs: config.ingest.timeoutMs,
    minBytesPerSecond: config.ingest.minBytesPerSecond,
    graceMs: config.ingest.slowGraceMs,
  };

  await server.register(
    async (api) => {
      // The body reaches the handler as the raw stream: no size limit of fastify's, no buffering.
      api.removeAllContentTypeParsers();
      api.addContentTypeParser(['application/json', 'application/x-ndjson'], (_request, payload, done) =>
        done(null, payload),
      );
      api.setNotFoundHandler((_request, reply) => answer(reply, 404, { error: 'not found' }));
      api.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
        const status =
          error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
        if (status === 500) request.log.error({ err: error }, 'ingest request failed');
        return answer(reply, status, {
          error:
            status === 415
              ? 'send application/json or application/x-ndjson'
              : status === 500
                ? 'internal error'
                : 'bad request',
        });
      });
      if (tokens.length === 0) return;

      api.addHook('onRequest', async (request, reply) => {
        const which = matchToken(request.headers.authorization, tokens);
        if (which === null) {
          return answer(reply.header('www-authenticate', 'Bearer'), 401, { error: 'unauthorized' });
        }
        const wait = limiter.take(String(which), now().getTime());
        if (wait > 0) {
          return answer(reply.header('retry-after', String(Math.ceil(wait / 1000))), 429, {
            error: 'too many requests',
          });
        }
        (request as FastifyRequest & { ingestToken?: string }).ingestToken =
          which === 0 ? 'token' : `previous token ${which}`;
      });

      api.post('/stories', async (request, reply) => {
        const startedAt = now();
        // Taken now: once the body is left unread the socket may be gone, and with TRUST_PROXY the
        // client address is worked out from it on demand.
        const source = sourceOf(request);
        const maxBytes = config.ingest.maxBytes;
        if (Number(request.headers['content-length']) > maxBytes) return tooLarge(reply, maxBytes);
        const body = request.body as Readable | undefined;
        if (!body || typeof body.on !== 'function')
          return answer(reply, 415, { error: 'send application/json or application/x-ndjson' });
        let bytes = 0;
        const refuse = async (status: number, error: string) => {
          await recordIngestRun(db, {
            ...failedRun(source, startedAt, now(), bytes),
            detail: error,
          });
          return answer(reply.header('connection', 'close'), status, { error });
        };
        const encoding = String(request.headers['content-encoding'] ?? 'identity')
          .trim()
          .toLowerCase();
        if (encoding !== 'identity')
          return refuse(
            415,
            `Content-Encoding ${encoding.slice(0, 40)} is not accepted: send the body uncompressed`,
          );
        const release = uploads.take(tokenLabel(request));
        if (!release)
          return answer(reply.header('connection', 'close').header('retry-after', '10'), 429, {
            error: `${uploadsInProgress(config.ingest.concurrentUploads)}: send this one when one has finished`,
          });
        let spooled: SpooledBody | undefined;
        try {
          // The whole body first, onto disk: no database connection is taken while it arrives.
          try {
            spooled = await spoolBody(body, uploadRules, (n) => {
              bytes = n;
            });
          } catch (error) {
            if (error instanceof InputTooLargeError) return tooLarge(reply, maxBytes);
            if (error instanceof CompressedBodyError) return refuse(415, error.message);
            if (error instanceof SlowBodyError || error instanceof BodyStalledError)
              return refuse(408, error.message);
            const code = (error as { code?: unknown }).code;
            if (typeof code === 'string' && /^(ECONNRESET|ERR_STREAM_PREMATURE_CLOSE|ABORT_ERR)$/.test(code))
              return answer(reply.header('connection', 'close'), 400, { error: 'the body broke off' });
            if (code === 'ENOSPC' || code === 'EDQUOT') {
              request.log.error({ err: error }, 'the ingest spool is out of disk space');
              reply.header('retry-after', '60');
              return refuse(503, 'the server has no room to receive the body now: try again later');
            }
            throw error;
          }
          return await importSpooled(request, reply, spooled, { source, startedAt });
        } finally {
          await spooled?.discard();
          release();
        }
      });

      /** Imports a body already on disk, in one transaction, and answers with the outcome. */
      const importSpooled = async (
        request: FastifyRequest,
        reply: FastifyReply,
        spooled: SpooledBody,
        run: { source: string; startedAt: Date },
      ) => {
        const query = request.query as Record<string, unknown>;
        const skipInvalid = query.skipInvalid === 'true' || query.skipInvalid === '1';
        const ndjson = /x-ndjson/i.test(String(request.headers['content-type'] ?? ''));
        let outcome: ImportOutcome;
        try {
          outcome = await importStories(
            db,
            readStoryRecords(spooled.read(), { format: ndjson ? 'ndjson' : 'auto' }),
            { skipInvalid, now: run.startedAt },
          );
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          if (code === '40P01' || code === '40001')
            return answer(reply.header('retry-after', '5'), 503, {
              error: 'a concurrent import got in the way',
            });
          throw error;
        }
        await recordIngestRun(
          db,
          runOfOutcome(outcome, { kind: 'api', ...run, finishedAt: now(), bytes: spooled.bytes }),
        );
        const errors =
          outcome.problemCount > 0 ? { errors: outcome.problems, errorCount: outcome.problemCount } : {};
        if (outcome.stoppedEarly)
          return answer(reply, 422, {
            error: `refused after ${INVALID_RECORD_LIMIT} invalid records; nothing was stored and the rest was not checked`,
            ...errors,
          });
        if (!outcome.stored) return answer(reply, 422, errors);
        return answer(reply, 200, {
          imported: outcome.imported,
          updated: outcome.updated,
          unchanged: outcome.unchanged,
          retracted: outcome.retracted,
          ...errors,
        });
      };

      api.delete<{ Params: { id: string } }>('/stories/:id', async (request, reply) => {
        const id = request.params.id;
        // No stored id holds what PostgreSQL cannot store (a NUL): asking for one is not a query.
        if (unstorableTextReason(id)) return answer(reply, 404, { error: 'no such story' });
        const result = await db.transaction().execute(async (trx) => {
          const exists = await findStory(trx, id);
          if (!exists) return null;
          const retracted = await retractStories(trx, [id], now());
          await withdrawFromUnsentIssues(trx, retracted);
          return retracted.length;
        });
        if (result === null) return answer(reply, 404, { error: 'no such story' });
        await recordIngestRun(db, {
          kind: 'api',
          source: sourceOf(request),
          startedAt: now(),
          finishedAt: now(),
          status: 'retracted',
          imported: 0,
          updated: 0,
          unchanged: result === 0 ? 1 : 0,
          retracted: result,
          invalid: 0,
          bytes: 0,
          detail: `DELETE ${id}`,
        });
        return answer(reply, 200, { retracted: result, unchanged: result === 0 ? 1 : 0 });
      });
    },
    { prefix: '/api' },
  );
}

function answer(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .type('application/json; charset=utf-8')
    .send(body);
}

function tooLarge(reply: FastifyReply, maxBytes: number): FastifyReply {
  // The client may still be sending: close the connection rather than read the rest.
  return answer(reply.header('connection', 'close'), 413, { error: 'payload too large', maxBytes });
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Which token the header carries (0 = current, n = n-th previous), or null. `tokens` are sha256 digests. */
export function matchToken(header: string | undefined, tokens: readonly Buffer[]): number | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) return null;
  const given = digest(match[1]);
  let found: number | null = null;
  tokens.forEach((token, index) => {
    // Digests of equal length, every token compared (no early exit): timing tells nothing about the token.
    const same = timingSafeEqual(given, token);
    if (same && found === null) found = index;
  });
  return found;
}

/** A fixed window per token: how long to wait (ms) before the next request is allowed, 0 when it is. */
function createTokenLimiter(limit: number, windowMs: number) {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    take(key: string, at: number): number {
      const window = windows.get(key);
      if (!window || at - window.start >= windowMs) {
        windows.set(key, { start: at, count: 1 });
        return 0;
      }
      if (window.count >= limit) return window.start + windowMs - at;
      window.count += 1;
      return 0;
    },
  };
}

/** A refused API request as an ingest run: nothing stored, the reason in its detail. */
function failedRun(source: string, startedAt: Date, finishedAt: Date, bytes: number): IngestRun {
  return {
    kind: 'api',
    source,
    startedAt,
    finishedAt,
    status: 'refused',
    imported: 0,
    updated: 0,
    unchanged: 0,
    retracted: 0,
    invalid: 0,
    bytes,
    detail: null,
  };
}

/** Who sent an API batch, for the editor's list of runs: the token's label and the client address. */
function sourceOf(request: FastifyRequest): string {
  return `${tokenLabel(request)} from ${request.ip}`;
}

/** "1 upload with this token is in progress already", "4 uploads … are …". */
function uploadsInProgress(count: number): string {
  return count === 1
    ? '1 upload with this token is in progress already'
    : `${count} uploads with this token are in progress already`;
}

/** Which token authenticated the request ("token", "previous token 1", …), set by the onRequest hook. */
function tokenLabel(request: FastifyRequest): string {
  return (request as FastifyRequest & { ingestToken?: string }).ingestToken ?? 'token';
}
