import type { RelayProvider } from '../config.ts';
import { formatAddress } from '../mail/compose-mime.ts';
import type { OutgoingMessage } from '../mail/mailer.ts';
import { type RenderedMessage, withParts } from '../render/rendered-message.ts';
import { signBounceToken, signToken, type TokenSecrets, tokenToLocalPart } from '../tracking/token.ts';
import type { ClaimedDelivery } from './delivery.repository.ts';

export interface EnvelopeContext {
  issueId: number;
  fromName: string;
  fromEmail: string;
  /** Domain of the VERP return path and of the mailto: unsubscribe address. */
  bounceDomain: string;
  publicUrl: string;
  listIdDomain: string;
  secrets: TokenSecrets;
  /**
   * Feedback-ID fields (Gmail's feedback loop groups complaints by them): the campaign (the issue's week)
   * and the sender; the segment set of each message is the middle field.
   */
  feedback?: { campaign: string; senderId: string };
  /** The relay (SMTP_PROVIDER): its echo header carries the return-path token into its webhook events. */
  relayProvider?: RelayProvider;
}

/**
 * Wraps a personalised message in its envelope: stable Message-ID from the ledger, a VERP return path
 * `bounces+TOKEN@bounceDomain` (TOKEN made mail-safe by tokenToLocalPart) whose signed token names subscriber and issue (the bounce listener reads
 * it), and the list headers (RFC 2369 / RFC 8058) when the renderer did not set them. Pure.
 */
export function outgoingMessage(
  rendered: RenderedMessage,
  delivery: ClaimedDelivery,
  context: EnvelopeContext,
): OutgoingMessage {
  const bounceToken = signBounceToken(context.secrets, delivery.subscriberId, context.issueId);
  const base = hasListUnsubscribe(rendered.headers)
    ? rendered.headers
    : { ...listHeaders(context, delivery.subscriberId), ...rendered.headers };
  const headers = {
    ...base,
    ...(context.feedback ? { 'Feedback-ID': feedbackId(context.feedback, delivery.segmentKey) } : {}),
    ...relayEchoHeaders(context.relayProvider, bounceToken),
  };
  return withParts(
    {
      from: formatAddress(context.fromName, context.fromEmail),
      to: delivery.email,
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      headers,
      messageId: delivery.messageId,
      envelopeFrom: `bounces+${tokenToLocalPart(bounceToken)}@${context.bounceDomain}`,
    },
    rendered.parts,
  );
}

/**
 * The header a relay copies from the message into its webhook events (and strips before delivery), so
 * an event names our return-path token: SendGrid's X-SMTPAPI unique_args, Mailgun's
 * X-Mailgun-Variables, Postmark's X-PM-Metadata-*, SES's X-SES-MESSAGE-TAGS. None for other relays
 * (Resend's events are matched by the message id of its 250 reply). The token is [A-Za-z0-9._-], which
 * every one of them carries as is (SES tag values allow [A-Za-z0-9_.@-]). Pure.
 */
export function relayEchoHeaders(provider: RelayProvider | undefined, token: string): Record<string, string> {
  switch (provider) {
    case 'sendgrid':
      return { 'X-SMTPAPI': JSON.stringify({ unique_args: { recap_token: token } }) };
    case 'mailgun':
      return { 'X-Mailgun-Variables': JSON.stringify({ recap_token: token }) };
    case 'postmark':
      return { 'X-PM-Metadata-recap-token': token };
    case 'ses':
      return { 'X-SES-MESSAGE-TAGS': `recap_token=${token}` };
    default:
      return {};
  }
}

/** List-Unsubscribe with an https one-click URL and a mailto address, List-Unsubscribe-Post and List-Id. */
export function listHeaders(context: EnvelopeContext, subscriberId: string): Record<string, string> {
  const token = signToken(context.secrets, { kind: 'unsubscribe', subscriberId, issueId: context.issueId });
  return {
    'List-Unsubscribe': `<${context.publicUrl}/u/${token}>, <mailto:unsubscribe+${tokenToLocalPart(token)}@${context.bounceDomain}?subject=unsubscribe>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    'List-Id': `${context.fromName.replace(/[<>"\r\n]/g, '')} <${context.listIdDomain}>`,
  };
}

function hasListUnsubscribe(headers: Record<string, string>): boolean {
  return Object.keys(headers).some((name) => name.toLowerCase() === 'list-unsubscribe');
}

/** `campaign:segment-set:newsletter:sender`: four colon-separated fields, the last one the sender's id. */
export function feedbackId(feedback: { campaign: string; senderId: string }, segmentKey: string): string {
  const field = (text: string) => text.replace(/[^A-Za-z0-9._+-]/g, '-').slice(0, 100) || '-';
  return `${field(feedback.campaign)}:${field(segmentKey)}:newsletter:${field(feedback.senderId)}`;
}
