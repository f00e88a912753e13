import type { SendResult } from './mailer.ts';

type Failure = Extract<SendResult, { ok: false }>;

/** What nodemailer puts on its errors (all optional: sockets fail with plain Node errors). */
export interface SmtpErrorLike {
  message?: string;
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
}

const enhancedPattern = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/;
const unknownUser =
  /user unknown|unknown user|no such (user|mailbox|recipient)|mailbox (not found|unavailable|does not exist)|does not exist|recipient (address )?rejected: user/i;
/** Failures of the connection to the relay, not of a recipient (TLS included: a handshake that failed). */
const relayCodes = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETLS',
]);
const connectionCodes = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'EPROTOCOL',
  'EMAXLIMIT',
]);

/**
 * Classifies an SMTP failure. Pure. Rules, in order: authentication problems are fatal (every message
 * would fail the same way); a relay that cannot be reached (refused, timed out, TLS handshake, 4xx at the
 * greeting) is transient and marked `relay`; a relay that demands TLS or authentication we do not offer is
 * fatal; other 4xx replies and connection errors are transient; 5.7.x is a policy
 * refusal; any other 5xx is permanent, and its enhanced code (inferred as 5.1.1 from an "unknown user"
 * text when the server gives none) tells the caller whether the address itself is bad.
 */
export function classifySmtpError(error: SmtpErrorLike): Failure {
  const response = error.response ?? '';
  const code = error.responseCode;
  const enhancedMatch = enhancedPattern.exec(response) ?? enhancedPattern.exec(error.message ?? '');
  let enhanced = enhancedMatch ? `${enhancedMatch[1]}.${enhancedMatch[2]}.${enhancedMatch[3]}` : undefined;
  const message = oneLine(response || error.message || 'unknown SMTP error');
  const base = { message, ...(code ? { code } : {}) };

  if (
    error.code === 'EAUTH' ||
    error.code === 'ENOAUTH' ||
    error.code === 'EOAUTH2' ||
    code === 535 ||
    code === 534
  ) {
    return {
      ok: false,
      kind: 'fatal',
      ...base,
      ...(enhanced ? { enhanced } : {}),
      message: `SMTP authentication failed: ${message}`,
    };
  }
  // The relay cannot be reached or talked to (refused, timed out, TLS failed, 421 at the greeting):
  // nothing is wrong with the recipient, and the relay may come back.
  if (
    (error.code && relayCodes.has(error.code)) ||
    (error.command === 'CONN' && (code === undefined || (code >= 400 && code < 500)))
  ) {
    return { ok: false, kind: 'transient', ...base, ...(enhanced ? { enhanced } : {}), relay: true };
  }
  if (error.code === 'EREQUIRETLS' || (code === 530 && /tls/i.test(response))) {
    return {
      ok: false,
      kind: 'fatal',
      ...base,
      ...(enhanced ? { enhanced } : {}),
      message: `SMTP TLS failed: ${message}`,
    };
  }
  if (code === 530) {
    return {
      ok: false,
      kind: 'fatal',
      ...base,
      ...(enhanced ? { enhanced } : {}),
      message: `SMTP server requires authentication: ${message}`,
    };
  }
  if (code !== undefined && code >= 400 && code < 500) {
    return { ok: false, kind: 'transient', ...base, ...(enhanced ? { enhanced } : {}) };
  }
  if (code !== undefined && code >= 500) {
    if (enhanced?.startsWith('5.7.')) return { ok: false, kind: 'policy', ...base, enhanced };
    if (!enhanced && (code === 550 || code === 551 || code === 553) && unknownUser.test(response))
      enhanced = '5.1.1';
    return { ok: false, kind: 'permanent', ...base, ...(enhanced ? { enhanced } : {}) };
  }
  if (error.code && connectionCodes.has(error.code)) return { ok: false, kind: 'transient', ...base };
  // Anything unrecognised (a stream error, an odd socket failure) is retried: retries are bounded by a
  // deadline, whereas calling it permanent would lose the message for good.
  return { ok: false, kind: 'transient', ...base };
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 500);
}
