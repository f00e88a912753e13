import type { ParsedMail } from 'mailparser';
import { tokenFromLocalPart } from '../../tracking/token.ts';

/** One recipient block of a delivery status notification (RFC 3464). */
export interface RecipientStatus {
  action: string;
  /** Enhanced status code, e.g. "5.1.1"; '' when the block has no Status field. */
  status: string;
  /**
   * What the Status field said: 'none' (no field), 'valid' (an RFC 3464 class.subject.detail code) or
   * 'malformed' (present but not such a code, e.g. "bounced" or "9.9.9").
   */
  statusForm: 'none' | 'valid' | 'malformed';
  finalRecipient: string | null;
  diagnostic: string | null;
}

export type InboundReport =
  | { type: 'dsn'; recipients: RecipientStatus[] }
  | { type: 'complaint'; feedbackType: string; originalRecipient: string | null }
  | { type: 'other' };

/** Fields of a header-like block ("Name: value" lines, folded continuation lines), names lower-cased. */
function parseFields(block: string): Map<string, string> {
  const fields = new Map<string, string>();
  let last: string | null = null;
  for (const line of block.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && last) {
      fields.set(last, `${fields.get(last) ?? ''} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim().toLowerCase();
    if (!fields.has(last)) fields.set(last, line.slice(colon + 1).trim());
  }
  return fields;
}

/** "rfc822; Jane@Example.org" or "<jane@example.org>" -> "jane@example.org". */
function addressOf(value: string | undefined): string | null {
  if (!value) return null;
  const match = /([^\s<>;"]+@[^\s<>;"]+)/.exec(value.replace(/^[a-z0-9-]+;\s*/i, ''));
  return match?.[1]?.toLowerCase() ?? null;
}

/** Parses the machine-readable part of a DSN: per-recipient Action and Status. */
export function parseDeliveryStatus(text: string): RecipientStatus[] {
  const blocks = text.split(/\r?\n[ \t]*\r?\n/).map(parseFields);
  return blocks
    .filter((fields) => fields.has('action'))
    .map((fields) => ({
      action: (fields.get('action') ?? '').toLowerCase(),
      ...statusOf(fields.get('status')),
      finalRecipient: addressOf(fields.get('final-recipient') ?? fields.get('original-recipient')),
      diagnostic: fields.get('diagnostic-code') ?? null,
    }));
}

/**
 * RFC 3464 §2.3.4: `status-code = DIGIT "." 1*3DIGIT "." 1*3DIGIT` with class 2, 4 or 5, optionally
 * followed by a comment. Anything else in a present Status field is malformed.
 */
function statusOf(value: string | undefined): Pick<RecipientStatus, 'status' | 'statusForm'> {
  if (value === undefined || value.trim() === '') return { status: '', statusForm: 'none' };
  const code = /^\s*([245]\.\d{1,3}\.\d{1,3})(?:\s|\(|$)/.exec(value)?.[1];
  return code ? { status: code, statusForm: 'valid' } : { status: '', statusForm: 'malformed' };
}

/**
 * Recognises a delivery status notification (multipart/report with message/delivery-status, kept by
 * mailparser's keepDeliveryStatus) or an ARF feedback report (message/feedback-report). Anything else is
 * 'other'. Pure; never throws.
 */
export function classifyInbound(mail: ParsedMail): InboundReport {
  for (const attachment of mail.attachments ?? []) {
    const type = attachment.contentType.toLowerCase();
    if (type === 'message/feedback-report') {
      const fields = parseFields(attachment.content.toString('utf8'));
      return {
        type: 'complaint',
        feedbackType: (fields.get('feedback-type') ?? 'abuse').toLowerCase(),
        originalRecipient: addressOf(fields.get('original-rcpt-to') ?? fields.get('removal-recipient')),
      };
    }
    if (type === 'message/delivery-status' || type === 'message/global-delivery-status') {
      return { type: 'dsn', recipients: parseDeliveryStatus(attachment.content.toString('utf8')) };
    }
  }
  return { type: 'other' };
}

/** A token-like run: letters, digits and the separators our tokens and their mail-safe form use. */
const TOKEN_CHARS = '[A-Za-z0-9._=-]{20,120}';
const tokenPatterns = {
  /** VERP return path (`bounces+TOKEN@`) of the returned original. */
  bounce: new RegExp(`bounces\\+(${TOKEN_CHARS})@`, 'g'),
  /** List-Unsubscribe: the one-click URL (`/u/TOKEN`) and the mailto address (`unsubscribe+TOKEN@`). */
  unsubscribe: new RegExp(`(?:/u/(${TOKEN_CHARS})|unsubscribe\\+(${TOKEN_CHARS})@)`, 'g'),
  /** The preference page link (`/p/TOKEN`) of the footer. */
  preferences: new RegExp(`/p/(${TOKEN_CHARS})`, 'g'),
  /** Tracked links (`/c/TOKEN`) and the open pixel (`/o/TOKEN`) of the body. */
  click: new RegExp(`/c/(${TOKEN_CHARS})`, 'g'),
  open: new RegExp(`/o/(${TOKEN_CHARS})`, 'g'),
};

/** Tokens quoted in a report's copy of the original message, by where they were found. */
export interface QuotedTokens {
  /** The VERP return path: the only token never shown in the body a reader can forward or post. */
  bounce: string[];
  unsubscribe: string[];
  preferences: string[];
  click: string[];
  open: string[];
}

/**
 * Tokens quoted in a report's copy of the original message: the VERP Return-Path, the List-Unsubscribe
 * URL and mailto address, tracked links and the open pixel (mail-safe '=' turned back into '.'). Each
 * kind is capped at a few candidates so a hostile report cannot make us verify thousands. The caller
 * verifies them: found text proves nothing by itself. Pure.
 */
export function tokensInText(text: string): QuotedTokens {
  const find = (pattern: RegExp) =>
    [
      ...new Set(
        [...text.matchAll(pattern)]
          .map((match) => tokenFromLocalPart(match[1] ?? match[2] ?? ''))
          .filter(Boolean),
      ),
    ].slice(0, MAX_CANDIDATES);
  return {
    bounce: find(tokenPatterns.bounce),
    unsubscribe: find(tokenPatterns.unsubscribe),
    preferences: find(tokenPatterns.preferences),
    click: find(tokenPatterns.click),
    open: find(tokenPatterns.open),
  };
}

const MAX_CANDIDATES = 20;

/** The token of `prefix+TOKEN@domain` (TOKEN as made by tokenToLocalPart; quotes allowed), or null. */
export function plusToken(address: string, prefix: string): string | null {
  const at = address.lastIndexOf('@');
  if (at < 0) return null;
  const local = address.slice(0, at).replace(/^"|"$/g, '');
  const head = `${prefix}+`;
  return local.toLowerCase().startsWith(head) ? tokenFromLocalPart(local.slice(head.length)) : null;
}
