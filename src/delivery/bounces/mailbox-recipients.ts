import { plusToken } from './parse-report.ts';

/** Addresses taken from one message: a bounce or a mailto unsubscribe names one; a few allow for forwarding hops. */
export const MAX_MAILBOX_RECIPIENTS = 5;

/** Header fields that name the address a mailbox message was delivered to, most trusted first. */
const RECIPIENT_FIELDS = ['delivered-to', 'x-original-to', 'to'] as const;

/** The header fields of a raw message (up to the first empty line), unfolded; names lower-cased. Pure. */
export function headerFields(raw: Buffer): Map<string, string[]> {
  const text = raw.subarray(0, headerEnd(raw)).toString('latin1');
  const fields = new Map<string, string[]>();
  let last: string[] | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && last && last.length > 0) {
      last[last.length - 1] = `${last[last.length - 1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      last = null;
      continue;
    }
    const name = line.slice(0, colon).trim().toLowerCase();
    const values = fields.get(name) ?? [];
    values.push(line.slice(colon + 1).trim());
    fields.set(name, values);
    last = values;
  }
  return fields;
}

function headerEnd(raw: Buffer): number {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  const ends = [crlf, lf].filter((index) => index >= 0);
  return ends.length > 0 ? Math.min(...ends) : raw.length;
}

/**
 * The addresses of ours a mailbox message was delivered to, standing in for the SMTP envelope the
 * listener sees: from Delivered-To, X-Original-To, then To, only `bounces+TOKEN@` and
 * `unsubscribe+TOKEN@` (lower-cased, deduplicated, at most MAX_MAILBOX_RECIPIENTS). Their tokens are
 * not verified here: handleInbound trusts only those it verifies. Pure.
 */
export function mailboxRecipients(fields: Map<string, string[]>): string[] {
  const found: string[] = [];
  for (const name of RECIPIENT_FIELDS) {
    for (const value of fields.get(name) ?? []) {
      for (const match of value.matchAll(/[^\s<>,;:"()]+@[^\s<>,;:"()]+/g)) {
        const address = match[0].toLowerCase();
        const ours = Boolean(plusToken(address, 'bounces') || plusToken(address, 'unsubscribe'));
        if (ours && !found.includes(address)) found.push(address);
      }
    }
  }
  return found.slice(0, MAX_MAILBOX_RECIPIENTS);
}
