import { type KeyObject, verify, X509Certificate } from 'node:crypto';
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

/** Fetches the text at an https URL (the SNS signing certificate, a SubscribeURL); built by the CLI. */
export type TextFetcher = (url: string) => Promise<string>;

export interface SesSnsSettings {
  /** SES_SNS_TOPIC_ARNS: only these topics are confirmed and believed. */
  topicArns: readonly string[];
  fetchText: TextFetcher;
  /** Signing certificates by URL, kept for the life of the server (SNS rotates them rarely). */
  certificates: Map<string, Promise<KeyObject>>;
}

/** Seconds an SNS message's Timestamp may lie in the past (SNS retries for about an hour by default). */
export const SNS_MAX_AGE_SECONDS = 3600;

/** The signing certificate could not be fetched: nothing was verified, the provider should try again. */
export class CertificateUnavailableError extends Error {}

const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

/** Whether a URL is an https URL of SNS itself (https://sns.<region>.amazonaws.com[.cn]/…). */
export function isSnsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && SNS_HOST.test(url.hostname) && url.port === '' && !url.username;
  } catch {
    return false;
  }
}

/** The fields SNS signs, in its order: each `Name\nvalue\n` (Subject only when present). */
function canonicalString(message: Record<string, unknown>): string | null {
  const names =
    message.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  let text = '';
  for (const name of names) {
    const value = message[name];
    if (value === undefined && name === 'Subject') continue;
    if (typeof value !== 'string') return null;
    text += `${name}\n${value}\n`;
  }
  return text;
}

/**
 * Verifies an SNS message carrying SES events (sent as text/plain JSON): SignatureVersion 1 (RSA-SHA1)
 * or 2 (RSA-SHA256) over the canonical string, with the certificate at SigningCertURL, which must be an
 * https URL of sns.<region>.amazonaws.com[.cn]; the TopicArn must be one of SES_SNS_TOPIC_ARNS and the
 * Timestamp at most an hour old. A SubscriptionConfirmation that verifies is confirmed by fetching its
 * SubscribeURL. Then reads the SES event (Bounce: Permanent or not; Complaint). Throws
 * CertificateUnavailableError when the certificate cannot be fetched; nothing else.
 */
export async function verifySesSns(settings: SesSnsSettings, request: WebhookRequest): Promise<Verification> {
  const message = asRecord(parseJson(request.body));
  const signature = asString(message.Signature);
  const certUrl = asString(message.SigningCertURL);
  if (!signature || !certUrl || !message.Type) return unsigned('not a signed SNS message');
  const algorithm =
    message.SignatureVersion === '1' ? 'sha1' : message.SignatureVersion === '2' ? 'sha256' : null;
  if (!algorithm) return refused('SignatureVersion is neither 1 nor 2');
  if (!isSnsUrl(certUrl) || !certUrl.endsWith('.pem'))
    return refused('SigningCertURL is not an SNS certificate URL');
  const canonical = canonicalString(message);
  if (canonical === null) return refused('a signed field is missing');
  const key = await certificate(settings, certUrl);
  let valid = false;
  try {
    valid = verify(algorithm, Buffer.from(canonical, 'utf8'), key, Buffer.from(signature, 'base64'));
  } catch {
    valid = false;
  }
  if (!valid) return refused('the SNS signature does not verify');
  const topic = asString(message.TopicArn) ?? '';
  if (!settings.topicArns.includes(topic)) return refused(`topic ${topic} is not in SES_SNS_TOPIC_ARNS`);
  const sentAt = Date.parse(asString(message.Timestamp) ?? '');
  if (!Number.isFinite(sentAt) || request.nowSeconds - sentAt / 1000 > SNS_MAX_AGE_SECONDS)
    return refused('the SNS Timestamp is more than an hour old');
  if (message.Type === 'SubscriptionConfirmation') {
    const subscribeUrl = asString(message.SubscribeURL) ?? '';
    if (!isSnsUrl(subscribeUrl)) return refused('SubscribeURL is not an SNS URL');
    await settings.fetchText(subscribeUrl).catch((error: unknown) => {
      throw new CertificateUnavailableError(`SubscribeURL could not be fetched: ${(error as Error).message}`);
    });
    return { ok: true, events: [] };
  }
  if (message.Type !== 'Notification') return { ok: true, events: [] };
  const eventId = asString(message.MessageId);
  if (!eventId) return refused('MessageId is missing');
  const ses = asRecord(parseJson(Buffer.from(asString(message.Message) ?? '', 'utf8')));
  return { ok: true, events: [sesEvent(eventId, ses)] };
}

function sesEvent(eventId: string, ses: Record<string, unknown>) {
  const type = ses.notificationType ?? ses.eventType;
  const mail = asRecord(ses.mail);
  const bounce = asRecord(ses.bounce);
  const first = asRecord(Array.isArray(bounce.bouncedRecipients) ? bounce.bouncedRecipients[0] : undefined);
  let report: RelayReport | null = null;
  if (type === 'Bounce')
    report = {
      type: 'bounce',
      permanent: bounce.bounceType === 'Permanent',
      status: asString(first.status),
      diagnostic: asString(first.diagnosticCode),
    };
  if (type === 'Complaint')
    report = {
      type: 'complaint',
      feedbackType: asString(asRecord(ses.complaint).complaintFeedbackType) ?? 'abuse',
    };
  const tags = asRecord(mail.tags).recap_token;
  return {
    eventId,
    token: Array.isArray(tags) ? asString(tags[0]) : null,
    relayMessageId: asString(mail.messageId),
    report,
  };
}

async function certificate(settings: SesSnsSettings, url: string): Promise<KeyObject> {
  let pending = settings.certificates.get(url);
  if (!pending) {
    pending = settings.fetchText(url).then((pem) => new X509Certificate(pem).publicKey);
    settings.certificates.set(url, pending);
  }
  try {
    return await pending;
  } catch (error) {
    settings.certificates.delete(url);
    throw new CertificateUnavailableError(`SNS signing certificate: ${(error as Error).message}`);
  }
}
