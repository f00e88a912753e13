import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { describeDatabaseError, isDatabaseUnavailable } from '../db/connection-errors.ts';
import { html, page } from './html.ts';
import { securityHeaders } from './security-headers.ts';

/** Longest request target answered (path and query); longer ones get 414 before routing. */
export const MAX_URL_LENGTH = 4096;

const titles: Record<number, string> = {
  400: 'Bad request',
  404: 'Not found',
  413: 'Too large',
  414: 'Address too long',
  415: 'Unsupported form',
  431: 'Headers too large',
  500: 'Something went wrong',
  503: 'Temporarily unavailable',
};

/** Seconds a client is asked to wait before trying again while the database does not answer. */
export const DATABASE_DOWN_RETRY_AFTER_SECONDS = 30;

/** The short page every error answer carries: a title and one sentence, never a stack or an echo. */
export function errorPage(status: number): string {
  const title = titles[status] ?? STATUS_CODES[status] ?? 'Error';
  const sentence =
    status >= 500
      ? 'Please try again later.'
      : status === 404
        ? 'There is nothing at this address.'
        : 'The request could not be read. Please check the address or the form and try again.';
  return page(title, html`<p>${sentence}</p>`);
}

/** Sends the error page with the security headers (set here too: some paths skip the hooks). */
export function sendErrorPage(reply: FastifyReply, status: number): FastifyReply {
  return reply
    .code(status)
    .headers(securityHeaders)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(errorPage(status));
}

/**
 * The status an error thrown while answering a request deserves: a 4xx the error names (body too large,
 * bad JSON, bad media type); 400 for an error raised while reading the body, before the handler ran (a
 * malformed multipart form: the request was bad); 500 for the rest.
 */
export function statusOfError(error: { statusCode?: number }, whileReadingBody: boolean): number {
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) return status;
  return whileReadingBody ? 400 : 500;
}

const parsingStarted = Symbol('parsingStarted');
const handlerStarted = Symbol('handlerStarted');
type Marked = Record<symbol, boolean | undefined>;

/**
 * Makes every error answer the server gives a short page with the security headers: fastify's own
 * answers (bad %-encoding, over-long parameters: `frameworkErrors`), errors thrown by parsers and
 * handlers, 404, too-long addresses (414). Errors the HTTP parser raises before fastify sees a request
 * (malformed request line, headers too large: 431) are answered on the socket by `answerClientError`.
 */
export function installErrorAnswers(server: FastifyInstance): void {
  server.addHook('onRequest', (request, reply, done) => {
    if (request.url.length > MAX_URL_LENGTH) {
      sendErrorPage(reply, 414);
      return;
    }
    done();
  });
  server.addHook('preParsing', (request, _reply, payload, done) => {
    (request as unknown as Marked)[parsingStarted] = true;
    done(null, payload);
  });
  server.addHook('preHandler', (request, _reply, done) => {
    (request as unknown as Marked)[handlerStarted] = true;
    done();
  });
  server.setNotFoundHandler((_request, reply) => sendErrorPage(reply, 404));
  server.setErrorHandler((error: FastifyError, request, reply) => {
    const marks = request as unknown as Marked;
    // Between parsing and the handler (body parsers, the multipart reader, validation) the body is at fault.
    const status = statusOfError(error, marks[parsingStarted] === true && marks[handlerStarted] !== true);
    // PostgreSQL away (stopped, restarting, unreachable): not a fault of this request nor of the code.
    // 503 with Retry-After, and one log line naming the cause rather than a stack per request.
    if (status === 500 && isDatabaseUnavailable(error)) {
      request.log.warn(
        { method: request.method, url: request.routeOptions.url ?? request.url.split('?')[0] },
        `answered 503: the database does not answer (${describeDatabaseError(error)})`,
      );
      reply.header('retry-after', String(DATABASE_DOWN_RETRY_AFTER_SECONDS));
      return sendErrorPage(reply, 503);
    }
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: error.code, status }, 'bad request');
    return sendErrorPage(reply, status);
  });
}

/** fastify's `frameworkErrors`: URLs it cannot decode (400) or with over-long parameters (414). */
export function answerFrameworkError(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  return sendErrorPage(reply, error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400);
}

/**
 * The node HTTP server's `clientError`: the request could not be parsed, so no handler, hook or reply
 * exists. Answers 431 (headers too large), 414 (request line too long) or 400 (malformed) on the socket,
 * with the security headers, then closes it. Never throws.
 */
export function answerClientError(
  error: Error & { code?: string; rawPacket?: unknown },
  socket: Socket,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') status = 408;
  else if (error.code === 'HPE_HEADER_OVERFLOW') {
    // Node counts the request line within the header limit: a line that never ended is an address too long.
    const packet = Buffer.isBuffer(error.rawPacket) ? error.rawPacket : undefined;
    const lineEnd = packet ? packet.indexOf('\r\n') : -1;
    status = packet && (lineEnd === -1 || lineEnd > MAX_URL_LENGTH) ? 414 : 431;
  } else if (error.code === 'HPE_URI_TOO_LONG') status = 414;
  const body = errorPage(status);
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    ...Object.entries(securityHeaders).map(([name, value]) => `${name}: ${value}`),
    'content-type: text/html; charset=utf-8',
    'cache-control: no-store',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
  ];
  try {
    if (socket.writable) socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
    else socket.destroy();
  } catch {
    socket.destroy();
  }
}
