import type { RelayReport } from '../delivery/bounces/handle-inbound.ts';
import {
  asRecord,
  asString,
  headerValue,
  parseJson,
  refused,
  unsigned,
  type Verification,
  type WebhookRequest,
} from './relay-event.ts';
import { sameSecret } from './timing-safe.ts';

export interface PostmarkCredentials {
  user: string;
  password: string;
}

/** Bounce types Postmark reports for an address that will not take mail again. */
const PERMANENT = new Set(['HardBounce', 'BadEmailAddress', 'ManuallyDeactivated', 'Unsubscribe']);
/** Bounce types that may pass: counted towards SOFT_BOUNCE_LIMIT. */
const TRANSIENT = new Set(['SoftBounce', 'Transient', 'DnsError', 'MailboxFull', 'Blocked']);

/**
 * Verifies a Postmark webhook by HTTP basic auth (the user and password written into the webhook URL at
 * Postmark), both compared in constant time, then reads its Bounce or SpamComplaint record. Postmark
 * signs nothing else, so a replay is stopped only by the event id (RecordType and ID). Pure; never throws.
 */
export function verifyPostmark(credentials: PostmarkCredentials, request: WebhookRequest): Verification {
  const authorization = headerValue(request.headers, 'authorization');
  if (!authorization?.startsWith('Basic ')) return unsigned('missing basic authentication');
  const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const userOk = sameSecret(colon < 0 ? decoded : decoded.slice(0, colon), credentials.user);
  const passwordOk = sameSecret(colon < 0 ? '' : decoded.slice(colon + 1), credentials.password);
  if (!userOk || !passwordOk) return refused('wrong user or password');
  const record = asRecord(parseJson(request.body));
  const kind = asString(record.RecordType);
  // Postmark's IDs are 64-bit: read as written, since a JSON number loses the last digits (and two
  // events would then share an id).
  const id = /"ID"\s*:\s*"?(\d{1,20})/.exec(request.body.toString('utf8'))?.[1] ?? asString(record.ID);
  if (!kind || !id) return { ok: true, events: [] };
  let report: RelayReport | null = null;
  const type = asString(record.Type) ?? '';
  if (kind === 'Bounce' && (PERMANENT.has(type) || TRANSIENT.has(type)))
    report = {
      type: 'bounce',
      permanent: PERMANENT.has(type),
      status: null,
      diagnostic: asString(record.Details) ?? asString(record.Description),
    };
  if (kind === 'SpamComplaint') report = { type: 'complaint', feedbackType: 'abuse' };
  return {
    ok: true,
    events: [
      {
        eventId: `${kind}:${id}`,
        token: asString(asRecord(record.Metadata)['recap-token']),
        relayMessageId: asString(record.MessageID),
        report,
      },
    ],
  };
}
