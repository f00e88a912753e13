import { createPublicKey, type KeyObject, verify } from 'node:crypto';
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

/** Seconds the X-Twilio-Email-Event-Webhook-Timestamp may differ from our clock. */
export const SENDGRID_TOLERANCE_SECONDS = 300;

/**
 * The verification key of SendGrid's signed event webhook: the base64 DER (SubjectPublicKeyInfo) P-256
 * key SendGrid shows. Throws a message naming SENDGRID_WEBHOOK_PUBLIC_KEY when it is not one (start-up).
 */
export function sendGridPublicKey(base64Der: string): KeyObject {
  try {
    const key = createPublicKey({ key: Buffer.from(base64Der, 'base64'), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ec') throw new Error(`a ${key.asymmetricKeyType} key`);
    return key;
  } catch (error) {
    throw new Error(
      `SENDGRID_WEBHOOK_PUBLIC_KEY: expected the base64 ECDSA public key SendGrid shows (${(error as Error).message})`,
    );
  }
}

/**
 * Verifies a SendGrid event webhook: X-Twilio-Email-Event-Webhook-Signature is a base64 ECDSA P-256
 * (SHA-256) signature of the timestamp header followed by the raw body; the timestamp must be within 5
 * minutes. Then reads the batch: bounce (blocked counts as transient), spamreport. Pure; never throws.
 */
export function verifySendGrid(key: KeyObject, request: WebhookRequest): Verification {
  const signature = headerValue(request.headers, 'x-twilio-email-event-webhook-signature');
  const timestamp = headerValue(request.headers, 'x-twilio-email-event-webhook-timestamp');
  if (!signature || !timestamp)
    return unsigned('missing X-Twilio-Email-Event-Webhook-Signature or -Timestamp');
  if (!/^\d{1,12}$/.test(timestamp))
    return refused('X-Twilio-Email-Event-Webhook-Timestamp is not a Unix time');
  if (Math.abs(request.nowSeconds - Number(timestamp)) > SENDGRID_TOLERANCE_SECONDS)
    return refused('X-Twilio-Email-Event-Webhook-Timestamp is more than 5 minutes away from now');
  let valid = false;
  try {
    valid = verify(
      'sha256',
      Buffer.concat([Buffer.from(timestamp, 'utf8'), request.body]),
      key,
      Buffer.from(signature, 'base64'),
    );
  } catch {
    valid = false;
  }
  if (!valid) return refused('X-Twilio-Email-Event-Webhook-Signature does not verify');
  const batch = parseJson(request.body);
  const events = (Array.isArray(batch) ? batch : []).map(asRecord).flatMap((event) => sendGridEvent(event));
  return { ok: true, events };
}

function sendGridEvent(event: Record<string, unknown>): RelayEvent[] {
  const eventId = asString(event.sg_event_id);
  if (!eventId) return [];
  let report: RelayReport | null = null;
  if (event.event === 'bounce')
    report = {
      type: 'bounce',
      // "blocked": the receiver refused for now (reputation, content); "bounce": the address is gone.
      permanent: event.type !== 'blocked',
      status: asString(event.status),
      diagnostic: asString(event.reason),
    };
  if (event.event === 'spamreport') report = { type: 'complaint', feedbackType: 'abuse' };
  // sg_message_id is the id of the 250 reply with ".filter…" appended.
  const relayMessageId = asString(event.sg_message_id)?.split('.')[0] ?? null;
  return [{ eventId, token: asString(event.recap_token), relayMessageId, report }];
}
