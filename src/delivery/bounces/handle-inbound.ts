import { simpleParser } from 'mailparser';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/database.ts';
import { unsubscribeSubscriber } from '../../subscribers/subscription-changes.ts';
import { recordComplaint, recordHardBounce, recordSoftBounce } from '../../subscribers/suppression.ts';
import { verifyClickToken, verifyToken } from '../../tracking/token.ts';
import { classifyInbound, plusToken, type RecipientStatus, tokensInText } from './parse-report.ts';

/** What handling inbound mail needs: the database, the token secrets and SOFT_BOUNCE_LIMIT (the listener's address too). */
export interface BounceDeps {
  db: Db;
  config: Pick<Config, 'secrets' | 'softBounceLimit' | 'bounceSmtpPort' | 'bounceSmtpHost'>;
}

export type InboundOutcome =
  | { kind: 'unsubscribed'; subscriberId: string; changed: boolean }
  | { kind: 'hard-bounce'; subscriberId: string; status: string }
  | { kind: 'soft-bounce'; subscriberId: string; status: string; count: number; suppressed: boolean }
  | { kind: 'complaint'; subscriberId: string }
  | { kind: 'dropped'; reason: string };

interface Identified {
  subscriberId: string;
  issueId: number | null;
  /**
   * 'return-path': the VERP token (envelope recipient or the original's Return-Path), which no reader
   * ever sees. 'body': a token a reader can forward or post (one-click and preference links, tracked
   * links, the open pixel), so it proves only that someone holds a copy of the mail.
   */
  via: 'return-path' | 'body';
}

/**
 * Acts on one inbound message of the bounce domain: `unsubscribe+TOKEN@` unsubscribes (List-Unsubscribe
 * mailto), a DSN whose Action is failed suppresses (5.x.x at once, 4.x.x after consecutive soft bounces),
 * an ARF complaint marks the reader 'complained' (suppressed for good) when it carries the VERP token, and
 * only unsubscribes (undoable by the reader) when it names only a token shown in the body. A DSN acts only
 * on the VERP token (the envelope recipient, or the returned original's Return-Path); one naming only a
 * body token (List-Unsubscribe, preference link, tracked links, open pixel) is dropped. The subscriber
 * comes only from a token we signed.
 * An address named in the report (Final-Recipient, Original-Rcpt-To) or a Message-ID is never enough:
 * anyone can write those. A soft bounce counts once per issue, so only a token that names its issue
 * counts. A failed action with a 2.x.x or malformed Status is not a bounce (RFC 3464) and is dropped.
 * Unknown, forged or malformed mail returns 'dropped'. Throws only on database failure.
 */
export async function handleInbound(
  deps: BounceDeps,
  envelopeTo: readonly string[],
  raw: Buffer,
): Promise<InboundOutcome[]> {
  const { secrets } = deps.config;
  const outcomes: InboundOutcome[] = [];
  for (const address of envelopeTo) {
    const token = plusToken(address, 'unsubscribe');
    const payload = token ? verifyToken(secrets, token, 'unsubscribe') : null;
    if (!payload) continue;
    const { changed } = await unsubscribeSubscriber(
      deps.db,
      payload.subscriberId,
      { ip: null, userAgent: null, source: 'mailto' },
      { issueId: payload.issueId ?? null, shown: 'List-Unsubscribe mailto' },
    );
    outcomes.push({ kind: 'unsubscribed', subscriberId: payload.subscriberId, changed });
  }
  if (outcomes.length > 0) return outcomes;

  let mail: Awaited<ReturnType<typeof simpleParser>>;
  try {
    mail = await simpleParser(raw, { keepDeliveryStatus: true } as Parameters<typeof simpleParser>[1]);
  } catch (error) {
    return [
      {
        kind: 'dropped',
        reason: `unparseable mail: ${error instanceof Error ? error.message : String(error)}`,
      },
    ];
  }
  const report = classifyInbound(mail);
  if (report.type === 'other')
    return [{ kind: 'dropped', reason: 'neither a delivery status notification nor a feedback report' }];

  const who = identify(deps, envelopeTo, raw.toString('latin1'));
  if (!who)
    return [
      {
        kind: 'dropped',
        reason: `${report.type} without a valid token of ours (the reported address alone is not trusted)`,
      },
    ];

  if (report.type === 'complaint') return [await actOnComplaint(deps, who, report.feedbackType)];
  return [await actOnDsn(deps, who, report.recipients)];
}

async function actOnComplaint(
  deps: BounceDeps,
  who: Identified,
  feedbackType: string,
): Promise<InboundOutcome> {
  if (who.via === 'body') {
    // Click, pixel, /u/ and /p/ links travel with every forwarded or posted copy of the mail: a
    // complaint quoting only those may come from anyone, so it costs the reader no more than an
    // unsubscribe they can undo.
    const { changed } = await unsubscribeSubscriber(
      deps.db,
      who.subscriberId,
      { ip: null, userAgent: null, source: 'complaint' },
      { issueId: who.issueId, feedbackType, shown: 'complaint naming only a link of the mail body' },
    );
    return { kind: 'unsubscribed', subscriberId: who.subscriberId, changed };
  }
  await recordComplaint(deps.db, who.subscriberId, { issueId: who.issueId, feedbackType });
  return { kind: 'complaint', subscriberId: who.subscriberId };
}

async function actOnDsn(
  deps: BounceDeps,
  who: Identified,
  recipients: readonly RecipientStatus[],
): Promise<InboundOutcome> {
  const failed = recipients.find((recipient) => recipient.action === 'failed');
  if (!failed) return { kind: 'dropped', reason: `dsn without Action: failed (${actions(recipients)})` };
  // A genuine DSN goes to the return path, whose token no reader ever sees. One naming only a token of
  // the mail body (a link anyone with a forwarded copy holds) proves nothing about delivery: dropped
  // rather than turned into an unsubscribe, since the reader asked for nothing either.
  if (who.via === 'body')
    return {
      kind: 'dropped',
      reason: 'dsn naming only a token shown in the mail body (a link or the pixel), not the return path',
    };
  // RFC 3464: a 2.x.x status is a success and a status that is not class.subject.detail means nothing;
  // neither is a reason to stop mailing anyone.
  if (failed.statusForm === 'malformed')
    return { kind: 'dropped', reason: 'dsn with Action: failed and a malformed Status' };
  if (failed.status.startsWith('2.'))
    return { kind: 'dropped', reason: `dsn with Action: failed and success Status ${failed.status}` };
  const detail = { status: failed.status, diagnostic: failed.diagnostic?.slice(0, 500) ?? null };
  if (failed.status.startsWith('4.')) {
    if (who.issueId === null)
      return { kind: 'dropped', reason: 'soft bounce not tied to an issue (counted once per issue)' };
    const result = await recordSoftBounce(
      deps.db,
      who.subscriberId,
      who.issueId,
      deps.config.softBounceLimit,
      detail,
    );
    return { kind: 'soft-bounce', subscriberId: who.subscriberId, status: failed.status, ...result };
  }
  // A failed action without any status is treated as permanent: the MTA gave up on the address.
  await recordHardBounce(deps.db, who.subscriberId, who.issueId, detail);
  return { kind: 'hard-bounce', subscriberId: who.subscriberId, status: failed.status || '5.0.0' };
}

function actions(recipients: readonly RecipientStatus[]): string {
  return recipients.map((r) => r.action || '?').join(', ') || 'no recipients';
}

function identify(deps: BounceDeps, envelopeTo: readonly string[], rawText: string): Identified | null {
  const { secrets } = deps.config;
  const quoted = tokensInText(rawText);
  const bounceTokens = [
    ...envelopeTo.map((address) => plusToken(address, 'bounces')).filter((t): t is string => t !== null),
    ...quoted.bounce,
  ];
  for (const token of bounceTokens) {
    const payload = verifyToken(secrets, token, 'bounce');
    if (payload)
      return { subscriberId: payload.subscriberId, issueId: payload.issueId ?? null, via: 'return-path' };
  }
  for (const [tokens, kind] of [
    [quoted.unsubscribe, 'unsubscribe'],
    [quoted.preferences, 'preferences'],
    [quoted.open, 'open'],
  ] as const) {
    for (const token of tokens) {
      const payload = verifyToken(secrets, token, kind);
      if (payload)
        return { subscriberId: payload.subscriberId, issueId: payload.issueId ?? null, via: 'body' };
    }
  }
  for (const token of quoted.click) {
    const payload = verifyClickToken(secrets, token);
    if (payload) return { subscriberId: payload.subscriberId, issueId: payload.issueId, via: 'body' };
  }
  return null;
}

/**
 * A bounce or complaint a relay reported through its signed webhook, already verified and tied to a
 * delivery (by our return-path token echoed back, or by the relay's id of the message).
 */
export type RelayReport =
  | { type: 'bounce'; permanent: boolean; status: string | null; diagnostic: string | null }
  | { type: 'complaint'; feedbackType: string };

/**
 * Acts on a relay-verified report exactly as on a DSN or ARF report naming the return-path token: a
 * permanent bounce suppresses, a transient one counts towards SOFT_BOUNCE_LIMIT once per issue, a
 * complaint marks the reader 'complained'. The provider's permanent/transient verdict decides the class;
 * its enhanced status, when of that class, is kept. Throws only on database failure.
 */
export async function actOnRelayReport(
  deps: BounceDeps,
  delivery: { subscriberId: string; issueId: number | null },
  report: RelayReport,
): Promise<InboundOutcome> {
  const who: Identified = { ...delivery, via: 'return-path' };
  if (report.type === 'complaint') return actOnComplaint(deps, who, report.feedbackType);
  const prefix = report.permanent ? '5.' : '4.';
  const given = report.status && /^[245]\.\d{1,3}\.\d{1,3}$/.test(report.status) ? report.status : null;
  const status = given?.startsWith(prefix) ? given : `${prefix}0.0`;
  return actOnDsn(deps, who, [
    { action: 'failed', status, statusForm: 'valid', finalRecipient: null, diagnostic: report.diagnostic },
  ]);
}
