import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * What a signed token stands for. It never carries an email address: only ids, which are useless
 * without the database and cannot be altered without breaking the signature.
 */
export type TokenKind = 'open' | 'click' | 'unsubscribe' | 'preferences' | 'confirm' | 'bounce';

export interface TokenPayload {
  kind: TokenKind;
  subscriberId: string;
  issueId?: number;
  /** Position of a registered link of the issue (click tokens). */
  link?: number;
  /** Unix seconds after which the token is refused (confirm tokens). */
  expiresAt?: number;
}

export interface TokenSecrets {
  current: string;
  /** Secrets rotated out but still accepted during their grace period. */
  previous: readonly string[];
}

const kindCode: Record<TokenKind, string> = {
  open: 'o',
  click: 'c',
  unsubscribe: 'u',
  preferences: 'p',
  confirm: 'v',
  bounce: 'b',
};
const codeKind = new Map(Object.entries(kindCode).map(([kind, code]) => [code, kind as TokenKind]));
const SIGNATURE_BYTES = 12;
const shape = /^[ocupvb]\.[0-9]+\.[0-9a-z]*\.[0-9a-z]*\.[0-9a-z]*\.[A-Za-z0-9_-]{16}$/;

function signature(secret: string, body: string): Buffer {
  return createHmac('sha256', secret).update(body).digest().subarray(0, SIGNATURE_BYTES);
}

function encodeBody(payload: TokenPayload): string {
  const opt = (value: number | undefined) => (value === undefined ? '' : value.toString(36));
  return `${kindCode[payload.kind]}.${payload.subscriberId}.${opt(payload.issueId)}.${opt(payload.link)}.${opt(payload.expiresAt)}`;
}

/** Signs a payload with the current secret. URL-safe, about 40 characters. */
export function signToken(secrets: TokenSecrets, payload: TokenPayload): string {
  if (!/^[0-9]+$/.test(payload.subscriberId)) throw new Error(`subscriberId must be digits, got ${payload.subscriberId}`);
  const body = encodeBody(payload);
  return `${body}.${signature(secrets.current, body).toString('base64url')}`;
}

/**
 * Returns the payload of a token signed with the current or a previous secret, or null for anything
 * malformed, forged, altered, of another kind than `expected`, or expired. Never throws.
 */
export function verifyToken(
  secrets: TokenSecrets,
  token: string,
  expected: TokenKind,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): TokenPayload | null {
  if (token.length > 120 || !shape.test(token)) return null;
  const cut = token.lastIndexOf('.');
  const body = token.slice(0, cut);
  const given = Buffer.from(token.slice(cut + 1), 'base64url');
  if (given.length !== SIGNATURE_BYTES) return null;
  const valid = [secrets.current, ...secrets.previous].some((secret) => timingSafeEqual(signature(secret, body), given));
  if (!valid) return null;
  const [code = '', subscriberId = '', issue = '', link = '', expires = ''] = body.split('.');
  const kind = codeKind.get(code);
  if (kind !== expected) return null;
  const payload: TokenPayload = { kind, subscriberId };
  if (issue) payload.issueId = Number.parseInt(issue, 36);
  if (link) payload.link = Number.parseInt(link, 36);
  if (expires) {
    payload.expiresAt = Number.parseInt(expires, 36);
    if (payload.expiresAt < nowSeconds) return null;
  }
  return payload;
}
