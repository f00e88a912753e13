import { describe, expect, it } from 'vitest';
import { signClickTokens, verifyClickToken, verifyToken } from '../../src/tracking/token.ts';

const secrets = { current: 'click-secret-0123456789-abcdefghijklmnop', previous: [] };

describe('click tokens', () => {
  it('round-trips subscriber, issue and position for every link of a recipient', () => {
    const positions = [0, 7, 123456, 2 ** 31 - 1];
    const tokens = signClickTokens(secrets, '9223372036854775807', 4000, positions);
    expect(tokens.map((token) => verifyClickToken(secrets, token))).toEqual(
      positions.map((link) => ({ subscriberId: '9223372036854775807', issueId: 4000, link })),
    );
    for (const token of tokens) expect(token).toMatch(/^k\.[0-9]+\.[0-9a-z]+\.[0-9a-z]+\.[A-Za-z0-9_-]{16}$/);
  });

  it('refuses a token whose subscriber, issue or position was changed, or that was truncated or forged', () => {
    const [token = ''] = signClickTokens(secrets, '42', 7, [99]);
    const [k, subscriber, issue, position, tag] = token.split('.');
    const variants = [
      [k, '43', issue, position, tag],
      [k, '042', issue, position, tag],
      [k, subscriber, '8', position, tag],
      [k, subscriber, issue, '2s', tag],
      [k, subscriber, issue, position, `${tag?.slice(0, 15)}A`],
    ].map((parts) => parts.join('.'));
    for (const forged of [...variants, token.slice(0, -1), `${token}x`, '', 'k.1.1.1.AAAAAAAAAAAAAAAA']) {
      expect(verifyClickToken(secrets, forged)).toBeNull();
    }
    expect(verifyToken(secrets, token, 'click')).toBeNull();
    expect(
      verifyClickToken({ current: 'another-secret-0123456789-abcdefghijkl', previous: [] }, token),
    ).toBeNull();
  });

  it('accepts tokens of a rotated secret during its grace period', () => {
    const [token = ''] = signClickTokens(secrets, '5', 1, [3]);
    const rotated = { current: 'the-new-secret-0123456789-abcdefghijklmn', previous: [secrets.current] };
    expect(verifyClickToken(rotated, token)).toEqual({ subscriberId: '5', issueId: 1, link: 3 });
  });
});
