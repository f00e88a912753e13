import { type Cipher, createCipheriv, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * What a signed token stands for. It never carries an email address: only ids, which are useless
 * without the database and cannot be altered without breaking the signature.
 */
/** 'keep': the one-click answer to the re-engagement mail. */
export type TokenKind = 'open' | 'click' | 'unsubscribe' | 'preferences' | 'confirm' | 'bounce' | 'keep';

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
  keep: 'r',
};
const codeKind = new Map(Object.entries(kindCode).map(([kind, code]) => [code, kind as TokenKind]));
const SIGNATURE_BYTES = 12;
const shape = /^[ocupvbr]\.[0-9]+\.[0-9a-z]*\.[0-9a-z]*\.[0-9a-z]*\.[A-Za-z0-9_-]{16}$/;

function signature(secret: string, body: string): Buffer {
  return createHmac('sha256', secret).update(body).digest().subarray(0, SIGNATURE_BYTES);
}

function encodeBody(payload: TokenPayload): string {
  const opt = (value: number | undefined) => (value === undefined ? '' : value.toString(36));
  return `${kindCode[payload.kind]}.${payload.subscriberId}.${opt(payload.issueId)}.${opt(payload.link)}.${opt(payload.expiresAt)}`;
}

/** Signs a payload with the current secret. URL-safe, about 40 characters. */
export function signToken(secrets: TokenSecrets, payload: TokenPayload): string {
  if (!/^[0-9]+$/.test(payload.subscriberId))
    throw new Error(`subscriberId must be digits, got ${payload.subscriberId}`);
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
  if (token.startsWith('k.')) return verifyRecipientToken(secrets, token, expected);
  if (token.length > 120 || !shape.test(token)) return null;
  const cut = token.lastIndexOf('.');
  const body = token.slice(0, cut);
  const given = Buffer.from(token.slice(cut + 1), 'base64url');
  if (given.length !== SIGNATURE_BYTES) return null;
  const valid = [secrets.current, ...secrets.previous].some((secret) =>
    timingSafeEqual(signature(secret, body), given),
  );
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

/*
 * Click tokens for tracked links, cheap enough to sign a dozen per recipient:
 *   k.<subscriberId>.<issueId base36>.<position base36>.<tag>
 * tag = base64url of the first 12 bytes of AES-128-ECB(key, block), where
 *   key   = first 16 bytes of HMAC-SHA256(secret, "weekly-ai-recap click key"), derived once per secret;
 *   block = subscriberId as uint64 big-endian ‖ issueId as uint32 BE ‖ position as uint32 BE (16 bytes).
 * AES under a secret key is a pseudorandom function on one block, so the tag is a MAC of exactly
 * (subscriber, issue, position): changing any of them breaks it. Signing all links of one recipient is
 * one AES pass over a few blocks with a cipher made once per secret: no HMAC per link.
 */
const clickShape = /^k\.[0-9]{1,19}\.[0-9a-z]{1,7}\.[0-9a-z]{1,7}\.[A-Za-z0-9_-]{16}$/;
const clickCiphers = new Map<string, Cipher>();

function clickCipher(secret: string): Cipher {
  let cipher = clickCiphers.get(secret);
  if (!cipher) {
    const key = createHmac('sha256', secret).update('weekly-ai-recap click key').digest().subarray(0, 16);
    cipher = createCipheriv('aes-128-ecb', key, null);
    cipher.setAutoPadding(false);
    clickCiphers.set(secret, cipher);
  }
  return cipher;
}

function clickTags(
  secret: string,
  subscriberId: bigint,
  issueId: number,
  positions: readonly number[],
): Buffer {
  if (positions.length === 0) return Buffer.alloc(0);
  const blocks = Buffer.allocUnsafe(16 * positions.length);
  // The subscriber's and the issue's 12 bytes are the same in every block: the first block is written
  // with Buffer's methods (which check the ranges), the others copy those bytes and set the position's 4
  // by hand (a Buffer method call per field cost more than the AES pass over a copy's tokens).
  blocks.writeBigUInt64BE(subscriberId, 0);
  blocks.writeUInt32BE(issueId, 8);
  blocks.writeUInt32BE(positions[0] as number, 12);
  for (let index = 1; index < positions.length; index++) {
    const at = index * 16;
    for (let byte = 0; byte < 12; byte++) blocks[at + byte] = blocks[byte] as number;
    const position = positions[index] as number;
    if (!(position >= 0 && position <= 0xffffffff && Number.isInteger(position)))
      throw new RangeError(`link position ${position} is not a 32-bit unsigned integer`);
    blocks[at + 12] = position >>> 24;
    blocks[at + 13] = (position >>> 16) & 0xff;
    blocks[at + 14] = (position >>> 8) & 0xff;
    blocks[at + 15] = position & 0xff;
  }
  // ECB keeps no state between blocks, so one cipher object serves every call.
  return clickCipher(secret).update(blocks);
}

/**
 * Signs click tokens for one recipient and issue, one per link position, in the order given. Subscriber
 * ids are digits below 2^64, issue ids and positions non-negative 32-bit integers.
 */
export function signClickTokens(
  secrets: TokenSecrets,
  subscriberId: string,
  issueId: number,
  positions: readonly number[],
): string[] {
  if (!/^[0-9]{1,19}$/.test(subscriberId))
    throw new Error(`subscriberId must be digits, got ${subscriberId}`);
  const tags = clickTags(secrets.current, BigInt(subscriberId), issueId, positions);
  // 12 bytes are exactly 16 base64 characters: encode all tags at once and cut the text.
  const packed = Buffer.allocUnsafe(SIGNATURE_BYTES * positions.length);
  for (let index = 0; index < positions.length; index++) {
    const from = index * 16;
    const to = index * SIGNATURE_BYTES;
    for (let byte = 0; byte < SIGNATURE_BYTES; byte++) packed[to + byte] = tags[from + byte] as number;
  }
  const encoded = packed.toString('base64url');
  const prefix = `k.${subscriberId}.${issueId.toString(36)}.`;
  return positions.map(
    (position, index) => `${prefix}${position.toString(36)}.${encoded.slice(index * 16, index * 16 + 16)}`,
  );
}

/**
 * The subscriber, issue and link position of a click token signed with the current or a previous
 * secret, or null for anything malformed, forged or altered. Never throws.
 */
/** The (subscriber, issue, position) of a tagged token with a valid tag, marks included. */
function verifyTaggedToken(
  secrets: TokenSecrets,
  token: string,
): { subscriberId: string; issueId: number; link: number } | null {
  if (token.length > 120 || !clickShape.test(token)) return null;
  const [, subscriberId = '', issue36 = '', position36 = '', tag = ''] = token.split('.');
  const link = Number.parseInt(position36, 36);
  const issueId = Number.parseInt(issue36, 36);
  const subscriber = BigInt(subscriberId);
  if (link > 0xffffffff || issueId > 0xffffffff || subscriber >= 2n ** 64n) return null;
  if (
    issueId.toString(36) !== issue36 ||
    link.toString(36) !== position36 ||
    String(subscriber) !== subscriberId
  ) {
    return null;
  }
  const given = Buffer.from(tag, 'base64url');
  if (given.length !== SIGNATURE_BYTES) return null;
  const valid = [secrets.current, ...secrets.previous].some((secret) =>
    timingSafeEqual(clickTags(secret, subscriber, issueId, [link]).subarray(0, SIGNATURE_BYTES), given),
  );
  return valid ? { subscriberId, issueId, link } : null;
}

/** Link positions (indexes; 31-bit hashes in older issues, see LinkPositionScheme) are below 2^31; the values above mark the other per-recipient kinds. */
const LINK_POSITION_LIMIT = 2 ** 31;
const recipientTokenMarks = {
  open: 0xffffff01,
  unsubscribe: 0xffffff02,
  preferences: 0xffffff03,
  bounce: 0xffffff04,
} as const;
type RecipientTokenKind = keyof typeof recipientTokenMarks;
const markKind = new Map<number, RecipientTokenKind>(
  Object.entries(recipientTokenMarks).map(([kind, mark]) => [mark, kind as RecipientTokenKind]),
);

/**
 * The subscriber, issue and link position of a click token signed with the current or a previous
 * secret, or null for anything malformed, forged or altered (or a token of another kind). Never throws.
 */
export function verifyClickToken(
  secrets: TokenSecrets,
  token: string,
): { subscriberId: string; issueId: number; link: number } | null {
  const payload = verifyTaggedToken(secrets, token);
  return payload && payload.link < LINK_POSITION_LIMIT ? payload : null;
}

/*
 * Feedback tokens share the tagged format and its position field (one AES block each, signed in the same
 * pass as the copy's other tokens). Story votes: FEEDBACK_STORY_BASE + 2·linkPosition (+1 for "less"),
 * where linkPosition is the issue-wide position of the story's own link, so the vote names its story
 * through the issue's link registry. Issue ratings: FEEDBACK_RATING_BASE + rating (1 poor, 2 fine,
 * 3 great). Both ranges lie above every link position and below the reserved marks, so no feedback
 * token verifies as a click, open, unsubscribe, preferences or bounce token, nor the other way round.
 */
const FEEDBACK_STORY_BASE = 0x80000000;
/** Story link positions a vote token can carry (far above any issue's link count). */
export const FEEDBACK_LINK_LIMIT = 2 ** 29;
const FEEDBACK_RATING_BASE = 0xfffffe00;

export type StoryVoteChoice = 'more' | 'less';
export type IssueRating = 1 | 2 | 3;

/** What a verified feedback token stands for. */
export type FeedbackPayload =
  | { kind: 'story'; subscriberId: string; issueId: number; link: number; choice: StoryVoteChoice }
  | { kind: 'rating'; subscriberId: string; issueId: number; rating: IssueRating };

/** The position-field values of a copy's feedback tokens: per story link "more" then "less", then ratings 1–3. */
export function feedbackMarks(storyLinkPositions: readonly number[]): number[] {
  const marks: number[] = [];
  for (const link of storyLinkPositions) {
    if (!Number.isInteger(link) || link < 0 || link >= FEEDBACK_LINK_LIMIT)
      throw new Error(`story link position ${link} cannot carry a vote token`);
    marks.push(FEEDBACK_STORY_BASE + 2 * link, FEEDBACK_STORY_BASE + 2 * link + 1);
  }
  marks.push(FEEDBACK_RATING_BASE + 1, FEEDBACK_RATING_BASE + 2, FEEDBACK_RATING_BASE + 3);
  return marks;
}

/** The feedback tokens of one copy, cut from the tokens signed for `feedbackMarks(storyLinkPositions)`. */
export interface FeedbackTokens {
  /** Per story link position given, in order: its "more" and "less" tokens. */
  stories: Array<{ more: string; less: string }>;
  /** Ratings 1, 2 and 3. */
  ratings: [string, string, string];
}

function feedbackTokensOf(tokens: readonly string[], storyCount: number): FeedbackTokens {
  const stories: Array<{ more: string; less: string }> = [];
  for (let i = 0; i < storyCount; i++)
    stories.push({ more: tokens[2 * i] as string, less: tokens[2 * i + 1] as string });
  const at = 2 * storyCount;
  return { stories, ratings: [tokens[at] as string, tokens[at + 1] as string, tokens[at + 2] as string] };
}

/**
 * The story vote or issue rating a feedback token carries, when it was signed with the current or a
 * previous secret; null for anything else (click, open and other tokens included). Never throws.
 */
export function verifyFeedbackToken(secrets: TokenSecrets, token: string): FeedbackPayload | null {
  const payload = verifyTaggedToken(secrets, token);
  if (!payload) return null;
  const { subscriberId, issueId, link: mark } = payload;
  if (mark >= FEEDBACK_RATING_BASE + 1 && mark <= FEEDBACK_RATING_BASE + 3)
    return { kind: 'rating', subscriberId, issueId, rating: (mark - FEEDBACK_RATING_BASE) as IssueRating };
  if (mark >= FEEDBACK_STORY_BASE && mark < FEEDBACK_STORY_BASE + 2 * FEEDBACK_LINK_LIMIT) {
    const offset = mark - FEEDBACK_STORY_BASE;
    return {
      kind: 'story',
      subscriberId,
      issueId,
      link: Math.floor(offset / 2),
      choice: offset % 2 === 0 ? 'more' : 'less',
    };
  }
  return null;
}

/** Signs the feedback tokens of one copy on their own (a copy's send path signs them with signRecipientTokens). */
export function signFeedbackTokens(
  secrets: TokenSecrets,
  subscriberId: string,
  issueId: number,
  storyLinkPositions: readonly number[],
): FeedbackTokens {
  const tokens = signClickTokens(secrets, subscriberId, issueId, feedbackMarks(storyLinkPositions));
  return feedbackTokensOf(tokens, storyLinkPositions.length);
}

/** Every token one recipient's copy of an issue carries. */
export interface RecipientTokens {
  clicks: string[];
  open: string;
  unsubscribe: string;
  preferences: string;
  /** Present when story link positions for feedback were given. */
  feedback?: FeedbackTokens;
}

/**
 * All of one recipient's tokens for an issue in a single AES pass: the click tokens of `positions`,
 * and open, unsubscribe and preferences tokens in the same tagged format, told apart by reserved marks
 * in the position field (so no token of one kind verifies as another). verifyToken accepts them.
 */
export function signRecipientTokens(
  secrets: TokenSecrets,
  subscriberId: string,
  issueId: number,
  positions: readonly number[],
  /** The story link positions to sign feedback tokens for (see feedbackMarks); absent: none. */
  feedbackStoryLinks?: readonly number[],
): RecipientTokens {
  const marks = [recipientTokenMarks.open, recipientTokenMarks.unsubscribe, recipientTokenMarks.preferences];
  const feedback = feedbackStoryLinks ? feedbackMarks(feedbackStoryLinks) : [];
  const tokens = signClickTokens(secrets, subscriberId, issueId, [...positions, ...marks, ...feedback]);
  const feedbackTokens = feedbackStoryLinks ? tokens.splice(positions.length + marks.length) : null;
  const [open = '', unsubscribe = '', preferences = ''] = tokens.splice(positions.length);
  const result: RecipientTokens = { clicks: tokens, open, unsubscribe, preferences };
  if (feedbackTokens && feedbackStoryLinks)
    result.feedback = feedbackTokensOf(feedbackTokens, feedbackStoryLinks.length);
  return result;
}

/**
 * The VERP return-path token of one recipient's copy, in the tagged format (one AES block with the
 * cipher made once per secret, where an HMAC would cost the send loop several microseconds per message).
 * verifyToken(…, 'bounce') accepts it, as it still accepts the HMAC tokens of copies sent before.
 */
export function signBounceToken(secrets: TokenSecrets, subscriberId: string, issueId: number): string {
  return signClickTokens(secrets, subscriberId, issueId, [recipientTokenMarks.bounce])[0] as string;
}

/** An open, unsubscribe, preferences or bounce token in the tagged format, as a TokenPayload. */
function verifyRecipientToken(
  secrets: TokenSecrets,
  token: string,
  expected: TokenKind,
): TokenPayload | null {
  const payload = verifyTaggedToken(secrets, token);
  if (!payload || markKind.get(payload.link) !== expected) return null;
  return { kind: expected, subscriberId: payload.subscriberId, issueId: payload.issueId };
}

/**
 * A token as the local part of a mail address (VERP `bounces+…@`, List-Unsubscribe `unsubscribe+…@`):
 * '.' becomes '=' because a local part may not hold '..' (empty fields) and MTAs refuse it.
 */
export function tokenToLocalPart(token: string): string {
  return token.replaceAll('.', '=');
}

/** The token of a local part made by tokenToLocalPart (a token with dots is returned as is). */
export function tokenFromLocalPart(localPart: string): string {
  return localPart.replaceAll('=', '.');
}
