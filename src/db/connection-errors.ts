/**
 * Whether a database error means "PostgreSQL is not there right now" (worth waiting out) rather than
 * "this statement is wrong" (worth reporting). Pure; shared by every caller that retries across an outage.
 */

/** Socket-level codes from Node (pg surfaces them unchanged) that mean the server cannot be reached. */
const socketCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server going away or not yet accepting: admin_shutdown, crash_shutdown,
 * cannot_connect_now (starting up, shutting down, in recovery). Class 08 (connection exception) is
 * matched by its prefix.
 */
const unavailableStates = new Set(['57P01', '57P02', '57P03']);

/** What pg says when the socket closes under a query or a connect, without a code. */
const unavailableMessages =
  /connection terminated|terminating connection|not queryable|connection ended|client has encountered a connection error|timeout exceeded when trying to connect|server closed the connection unexpectedly|the database system is (starting up|shutting down|in recovery mode)/i;

/**
 * True when `error` (or an error it wraps: `cause`, or the `errors` of an AggregateError, as a connect
 * to "localhost" tries two addresses) says the database server is unreachable or going away: a retry
 * later may succeed. False for everything else: syntax, constraint, serialization and data errors.
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (depth > 3 || typeof error !== 'object' || error === null) return false;
  const { code, message, cause, errors } = error as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof code === 'string') {
    if (socketCodes.has(code) || unavailableStates.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  if (typeof message === 'string' && unavailableMessages.test(message)) return true;
  if (Array.isArray(errors) && errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) return true;
  return cause !== undefined && isDatabaseUnavailable(cause, depth + 1);
}

/** One line naming the outage's cause, for logs and pause reasons: "connect ECONNREFUSED 127.0.0.1:5432". */
export function describeDatabaseError(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { message, errors, code } = error as { message?: unknown; errors?: unknown; code?: unknown };
  if (typeof message === 'string' && message.trim() !== '') return message.replace(/\s+/g, ' ').trim();
  if (Array.isArray(errors) && errors.length > 0) return describeDatabaseError(errors[0]);
  return typeof code === 'string' ? code : 'unknown database error';
}
