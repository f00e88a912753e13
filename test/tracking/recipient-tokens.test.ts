import { describe, expect, it } from 'vitest';
import {
  signBounceToken,
  signRecipientTokens,
  signToken,
  tokenFromLocalPart,
  tokenToLocalPart,
  verifyClickToken,
  verifyToken,
} from '../../src/tracking/token.ts';

const secrets = { current: 'a'.repeat(43), previous: [] };

describe('recipient tokens signed in one pass', () => {
  const tokens = signRecipientTokens(secrets, '42', 7, [5, 1234567]);

  it('verify as their own kind only', () => {
    expect(verifyToken(secrets, tokens.open, 'open')).toEqual({
      kind: 'open',
      subscriberId: '42',
      issueId: 7,
    });
    expect(verifyToken(secrets, tokens.unsubscribe, 'unsubscribe')).toEqual({
      kind: 'unsubscribe',
      subscriberId: '42',
      issueId: 7,
    });
    expect(verifyToken(secrets, tokens.preferences, 'preferences')?.subscriberId).toBe('42');
    expect(verifyToken(secrets, tokens.open, 'unsubscribe')).toBeNull();
    expect(verifyToken(secrets, tokens.unsubscribe, 'open')).toBeNull();
    expect(verifyToken(secrets, tokens.clicks[0] as string, 'unsubscribe')).toBeNull();
    expect(verifyClickToken(secrets, tokens.unsubscribe)).toBeNull();
    expect(tokens.clicks.map((t) => verifyClickToken(secrets, t)?.link)).toEqual([5, 1234567]);
  });

  it('refuse altered, swapped and foreign tokens; accept a rotated-out secret', () => {
    const other = signRecipientTokens(secrets, '43', 7, []);
    const swapped = tokens.unsubscribe.replace('k.42.', 'k.43.');
    expect(verifyToken(secrets, swapped, 'unsubscribe')).toBeNull();
    expect(verifyToken(secrets, other.unsubscribe, 'unsubscribe')?.subscriberId).toBe('43');
    expect(verifyToken(secrets, `${tokens.open.slice(0, -1)}A`, 'open')).toBeNull();
    expect(verifyToken({ current: 'b'.repeat(43), previous: [] }, tokens.open, 'open')).toBeNull();
    expect(
      verifyToken({ current: 'b'.repeat(43), previous: [secrets.current] }, tokens.open, 'open'),
    ).not.toBeNull();
    // The HMAC format stays valid beside it.
    expect(
      verifyToken(secrets, signToken(secrets, { kind: 'open', subscriberId: '42', issueId: 7 }), 'open'),
    ).not.toBeNull();
  });

  it('bounce tokens: tagged, mail-safe, their own kind; HMAC bounce tokens of earlier sends still verify', () => {
    const bounce = signBounceToken(secrets, '42', 7);
    expect(bounce).toMatch(/^k\.42\.7\.[0-9a-z]+\.[A-Za-z0-9_-]{16}$/);
    const local = tokenToLocalPart(bounce);
    expect(local).not.toContain('.');
    expect(verifyToken(secrets, tokenFromLocalPart(local), 'bounce')).toEqual({
      kind: 'bounce',
      subscriberId: '42',
      issueId: 7,
    });
    expect(verifyToken(secrets, bounce, 'unsubscribe')).toBeNull();
    expect(verifyClickToken(secrets, bounce)).toBeNull();
    expect(verifyToken(secrets, tokens.unsubscribe, 'bounce')).toBeNull();
    expect(verifyToken(secrets, bounce.replace('k.42.', 'k.43.'), 'bounce')).toBeNull();
    const earlier = signToken(secrets, { kind: 'bounce', subscriberId: '42', issueId: 7 });
    expect(verifyToken(secrets, earlier, 'bounce')?.subscriberId).toBe('42');
  });
});
