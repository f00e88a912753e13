import { createHmac } from 'node:crypto';
import type { RelayReport } from '../delivery/bounces/handle-inbound.ts';
import {
  asRecord,
  asString,
  parseJson,
  refused,
  unsigned,
  type Verification,
  type WebhookRequest,
} from './relay-event.ts';
import { sameSecret } from './timing-safe.ts';

/** Seconds a Mailgun signature's timestamp may differ from our clock. */
export const MAILGUN_TOLERANCE_SECONDS = 300;

/**
 * Verifies a Mailgun webhook: the JSON body's `signature` object holds `timestamp`, `token` and
 * `signature`, the hex HMAC-SHA256 of timestamp + token under the webhook signing key. The timestamp
 * must be within 5 minutes and the token is returned as the nonce, refused when seen again. Then reads
 * `event-data` (`failed` with severity permanent/temporary, `complained`). Pure; never throws.
 */
export function verifyMailgun(signingKey: string, request: WebhookRequest): Verification {
  const body = asRecord(parseJson(request.body));
  const signed = asRecord(body.signature);
  const timestamp = asString(signed.timestamp);
  const token = asString(signed.token);
  const signature = asString(signed.signature);
  if (!timestamp || !token || !signature) return unsigned('missing signature.timestamp, token or signature');
  if (!/^\d{1,12}$/.test(timestamp)) return refused('signature.timestamp is not a Unix time');
  if (Math.abs(request.nowSeconds - Number(timestamp)) > MAILGUN_TOLERANCE_SECONDS)
    return refused('signature.timestamp is more than 5 minutes away from now');
  const expected = createHmac('sha256', signingKey).update(timestamp).update(token).digest('hex');
  if (!sameSecret(signature.toLowerCase(), expected)) return refused('signature does not verify');
  const data = asRecord(body['event-data']);
  const eventId = asString(data.id);
  if (!eventId) return { ok: true, events: [], nonce: token };
  const status = asRecord(data['delivery-status']);
  let report: RelayReport | null = null;
  if (data.event === 'failed')
    report = {
      type: 'bounce',
      permanent: data.severity === 'permanent',
      status: asString(status['enhanced-code']),
      diagnostic: asString(status.description) ?? asString(status.message),
    };
  if (data.event === 'complained') report = { type: 'complaint', feedbackType: 'abuse' };
  const headers = asRecord(asRecord(data.message).headers);
  return {
    ok: true,
    nonce: token,
    events: [
      {
        eventId,
        token: asString(asRecord(data['user-variables']).recap_token),
        relayMessageId: asString(headers['message-id']),
        report,
      },
    ],
  };
}
