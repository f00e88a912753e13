import { describe, expect, it } from 'vitest';
import {
  signFeedbackTokens,
  signRecipientTokens,
  verifyClickToken,
  verifyFeedbackToken,
  verifyToken,
} from '../../src/tracking/token.ts';

const secrets = {
  current: 'feedback-secret-current-0123456789',
  previous: ['feedback-secret-old-0123456789'],
};

describe('feedback tokens', () => {
  it('carry the story link and choice, or the rating, of one reader and issue', () => {
    const tokens = signFeedbackTokens(secrets, '42', 7, [3, 11]);
    expect(verifyFeedbackToken(secrets, tokens.stories[0]?.more ?? '')).toEqual({
      kind: 'story',
      subscriberId: '42',
      issueId: 7,
      link: 3,
      choice: 'more',
    });
    expect(verifyFeedbackToken(secrets, tokens.stories[1]?.less ?? '')).toMatchObject({
      link: 11,
      choice: 'less',
    });
    expect(tokens.ratings.map((token) => verifyFeedbackToken(secrets, token))).toEqual([
      { kind: 'rating', subscriberId: '42', issueId: 7, rating: 1 },
      { kind: 'rating', subscriberId: '42', issueId: 7, rating: 2 },
      { kind: 'rating', subscriberId: '42', issueId: 7, rating: 3 },
    ]);
  });

  it('are signed in the same pass as the copy and equal the ones signed alone', () => {
    const copy = signRecipientTokens(secrets, '42', 7, [0, 1, 2], [3, 11]);
    expect(copy.feedback).toEqual(signFeedbackTokens(secrets, '42', 7, [3, 11]));
    expect(copy.clicks).toHaveLength(3);
    expect(signRecipientTokens(secrets, '42', 7, [0, 1, 2])).toMatchObject({
      clicks: copy.clicks,
      open: copy.open,
      unsubscribe: copy.unsubscribe,
    });
  });

  it('never verify as another kind, and no other kind verifies as feedback', () => {
    const copy = signRecipientTokens(secrets, '42', 7, [0, 5], [5]);
    const feedback = [copy.feedback?.stories[0]?.more ?? '', ...(copy.feedback?.ratings ?? [])];
    for (const token of feedback) {
      expect(verifyClickToken(secrets, token)).toBeNull();
      for (const kind of ['open', 'unsubscribe', 'preferences', 'bounce'] as const)
        expect(verifyToken(secrets, token, kind)).toBeNull();
    }
    for (const token of [...copy.clicks, copy.open, copy.unsubscribe, copy.preferences])
      expect(verifyFeedbackToken(secrets, token)).toBeNull();
  });

  it('refuse forged, altered and foreign-secret tokens, and keep verifying after a rotation', () => {
    const token = signFeedbackTokens(secrets, '42', 7, [3]).stories[0]?.more ?? '';
    const [k, , issue, mark, tag] = token.split('.');
    expect(verifyFeedbackToken(secrets, [k, '43', issue, mark, tag].join('.'))).toBeNull();
    expect(
      verifyFeedbackToken(secrets, `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`),
    ).toBeNull();
    expect(verifyFeedbackToken({ current: 'another-secret-0123456789', previous: [] }, token)).toBeNull();
    const rotated = { current: 'feedback-secret-new-0123456789', previous: [secrets.current] };
    expect(verifyFeedbackToken(rotated, token)).toMatchObject({ link: 3, choice: 'more' });
    expect(() => signFeedbackTokens(secrets, '42', 7, [2 ** 29])).toThrow(/cannot carry/);
  });
});
