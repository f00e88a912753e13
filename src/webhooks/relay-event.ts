import type { RelayReport } from '../delivery/bounces/handle-inbound.ts';

/** The relays whose webhooks the server can take, each at POST /webhooks/<provider>. */
export const WEBHOOK_PROVIDERS = ['ses', 'sendgrid', 'mailgun', 'postmark', 'resend', 'standard'] as const;
export type WebhookProvider = (typeof WEBHOOK_PROVIDERS)[number];

/** One event of a verified webhook request, reduced to what the bounce logic needs. */
export interface RelayEvent {
  /** The provider's id of the event: the same event delivered twice is acted on once. */
  eventId: string;
  /** Our return-path token, when the provider echoed it back (see docs/endpoints.md per provider). */
  token: string | null;
  /** The relay's id of the message (the one its 250 reply named), when the event carries it. */
  relayMessageId: string | null;
  /** Null: an event that is neither a bounce nor a complaint (delivered, opened, deferred…). */
  report: RelayReport | null;
}

/** An HTTP request as the verifiers see it: the raw body bytes, never a re-serialised parse. */
export interface WebhookRequest {
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  nowSeconds: number;
}

/**
 * A verifier's answer. 401: nothing that could be checked (no signature, no credentials); 403: a
 * signature or credential that does not verify, or a stale or replayed one. `nonce`: a value the
 * provider signs once per request (Mailgun's token), refused when seen again.
 */
export type Verification =
  | { ok: true; events: RelayEvent[]; nonce?: string }
  | { ok: false; status: 401 | 403; reason: string };

/** The one value of a header (the first, when repeated). */
export function headerValue(headers: WebhookRequest['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** JSON of the raw body, or undefined when it is not JSON. */
export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

export function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

export function asString(value: unknown): string | null {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number') return String(value);
  return null;
}

/** An unverified refusal: 401. */
export const unsigned = (reason: string): Verification => ({ ok: false, status: 401, reason });
/** A refusal of something signed but wrong, stale or replayed: 403. */
export const refused = (reason: string): Verification => ({ ok: false, status: 403, reason });
