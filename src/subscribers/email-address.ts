import { domainToASCII } from 'node:url';
import { analyzeEmail } from '@hapi/address';

declare const emailAddressBrand: unique symbol;

/**
 * A mailbox address that passed parseEmailAddress: a plain addr-spec (dot-atom local part, ASCII
 * domain of two or more labels), trimmed, lower-cased, IDN domain in punycode. The only form stored
 * in `subscribers.email`; anything else (display names, lists, quoted local parts) never gets here.
 */
export type EmailAddress = string & { readonly [emailAddressBrand]: true };

export type EmailAddressResult = { ok: true; address: EmailAddress } | { ok: false; reason: string };

const reasons: Record<string, string> = {
  MULTIPLE_AT_CHAR: 'has more than one "@"',
  MISSING_AT_CHAR: 'has no "@"',
  EMPTY_STRING: 'is empty',
  FORBIDDEN_UNICODE: 'has non-ASCII characters in its local part',
  INVALID_LOCAL_CHARS: 'has characters a plain address may not hold (spaces, commas, semicolons, quotes, <>)',
  EMPTY_LOCAL_SEGMENT: 'has an empty part between dots',
  DOMAIN_SEGMENTS_COUNT: 'has no domain with a dot',
};

/**
 * The one strict address parser of sign-up, CSV import and the pre-send check: accepts exactly one
 * RFC 5322 addr-spec with a dot-atom local part (no display name, no comments, no quoted local part,
 * no list separators), at most 64 + 254 characters, and a domain of valid DNS labels. Pure; never throws.
 */
export function parseEmailAddress(input: string): EmailAddressResult {
  const trimmed = input.normalize('NFC').trim().toLowerCase();
  if (trimmed === '') return { ok: false, reason: 'is empty' };
  const at = trimmed.lastIndexOf('@');
  // An IDN domain is checked (and stored) in its ASCII form; the local part must be ASCII already.
  const domain = at < 0 ? '' : trimmed.slice(at + 1);
  const asciiDomain = domain && !/^[\x20-\x7e]*$/.test(domain) ? domainToASCII(domain) : domain;
  if (at >= 0 && domain && !asciiDomain) return { ok: false, reason: 'has an invalid domain' };
  const candidate = at < 0 ? trimmed : `${trimmed.slice(0, at)}@${asciiDomain}`;
  const problem = analyzeEmail(candidate, {
    tlds: { deny: new Set<string>() },
    allowUnicode: false,
    minDomainSegments: 2,
  });
  if (problem)
    return { ok: false, reason: reasons[problem.code] ?? `is not a valid address (${problem.error})` };
  return { ok: true, address: candidate as EmailAddress };
}

/** The address, or null when parseEmailAddress refuses it. */
export function toEmailAddress(input: string): EmailAddress | null {
  const result = parseEmailAddress(input);
  return result.ok ? result.address : null;
}
