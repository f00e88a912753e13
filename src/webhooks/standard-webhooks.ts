import { createHmac } from 'node:crypto';
import type { RelayReport } from '../delivery/bounces/handle-inbound.ts';
import {
  asRecord,
  asString,
  headerValue,
  parseJson,
  type RelayEvent,
  refused,
  unsigned,
  type Verification,
  type WebhookRequest,
} from './relay-event.ts';
import { sameSecret } from './timing-safe.ts';

/** Seconds a Standard Webhooks timestamp may differ from our clock (the specification's 5 minutes). */
export const STANDARD_WEBHOOK_TOLERANCE_SECONDS = 300;

/**
 * Verifies a Standard Webhooks request (Resend sends the same scheme under svix-* header names):
 * `webhook-signature` holds space-separated `v1,<base64 HMAC-SHA256(id.timestamp.body)>` entries keyed by
 * the secret `whsec_<base64>`; the timestamp must be within 5 minutes. Then reads the Resend-shaped
 * payload (`email.bounced`, `email.complained`). Pure; never throws.
 */
export function verifyStandardWebhook(secret: string, request: WebhookRequest): Verification {
  const id = headerValue(request.headers, 'webhook-id') ?? headerValue(request.headers, 'svix-id');
  const timestamp =
    headerValue(request.headers, 'webhook-timestamp') ?? headerValue(request.headers, 'svix-timestamp');
  const signatures =
    headerValue(request.headers, 'webhook-signature') ?? headerValue(request.headers, 'svix-signature');
  if (!id || !timestamp || !signatures)
    return unsigned('missing webhook-id, webhook-timestamp or webhook-signature');
  if (!/^\d{1,12}$/.test(timestamp)) return refused('webhook-timestamp is not a Unix time');
  if (Math.abs(request.nowSeconds - Number(timestamp)) > STANDARD_WEBHOOK_TOLERANCE_SECONDS)
    return refused('webhook-timestamp is more than 5 minutes away from now');
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key)
    .update(`${id}.${timestamp}.`)
    .update(request.body)
    .digest('base64');
  const valid = signatures
    .split(' ')
    .some((entry) => entry.startsWith('v1,') && sameSecret(entry.slice(3), expected));
  if (!valid) return refused('webhook-signature does not verify');
  const payload = asRecord(parseJson(request.body));
  return { ok: true, events: [resendEvent(id, payload)] };
}

/** Resend's event shape, also the generic one: `{type, data: {email_id, bounce: {type, message}, tags}}`. */
function resendEvent(eventId: string, payload: Record<string, unknown>): RelayEvent {
  const data = asRecord(payload.data);
  const bounce = asRecord(data.bounce);
  let report: RelayReport | null = null;
  if (payload.type === 'email.bounced')
    report = {
      type: 'bounce',
      // Resend (as SES beneath it) says Permanent, Transient or Undetermined.
      permanent: bounce.type === 'Permanent',
      status: asString(bounce.status),
      diagnostic: asString(bounce.message),
    };
  if (payload.type === 'email.complained') report = { type: 'complaint', feedbackType: 'abuse' };
  return { eventId, token: tagValue(data.tags), relayMessageId: asString(data.email_id), report };
}

/** `recap_token` from tags given as an object or as a list of {name, value}. */
function tagValue(tags: unknown): string | null {
  if (Array.isArray(tags)) {
    const tag = tags.map(asRecord).find((entry) => entry.name === 'recap_token');
    return tag ? asString(tag.value) : null;
  }
  return asString(asRecord(tags).recap_token);
}
