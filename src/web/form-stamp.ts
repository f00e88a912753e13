import { createHmac, timingSafeEqual } from 'node:crypto';
import type { TokenSecrets } from '../tracking/token.ts';

/** A stamp older than this is refused (the person reloads the form). */
export const FORM_STAMP_MAX_AGE_SECONDS = 24 * 3600;

function tag(secret: string, issuedAt: string): Buffer {
  return createHmac('sha256', secret).update(`sign-up form served at ${issuedAt}`).digest().subarray(0, 12);
}

/** The signed time a form was served: `<unix seconds base36>.<tag>`. Pure. */
export function signFormStamp(secrets: TokenSecrets, nowSeconds: number): string {
  const issuedAt = Math.floor(nowSeconds).toString(36);
  return `${issuedAt}.${tag(secrets.current, issuedAt).toString('base64url')}`;
}

/**
 * Seconds since a form stamp was signed (current or previous secret), or null when it is missing,
 * malformed, forged, from the future or older than FORM_STAMP_MAX_AGE_SECONDS. Never throws.
 */
export function formStampAge(
  secrets: TokenSecrets,
  stamp: string | undefined,
  nowSeconds: number,
): number | null {
  const match = /^([0-9a-z]{1,8})\.([A-Za-z0-9_-]{16})$/.exec(stamp ?? '');
  if (!match?.[1] || !match[2]) return null;
  const given = Buffer.from(match[2], 'base64url');
  const issuedAt = match[1];
  if (![secrets.current, ...secrets.previous].some((secret) => timingSafeEqual(tag(secret, issuedAt), given)))
    return null;
  const age = nowSeconds - Number.parseInt(issuedAt, 36);
  return age < 0 || age > FORM_STAMP_MAX_AGE_SECONDS ? null : age;
}
