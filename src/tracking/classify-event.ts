import type { EventClass } from '../db/database.ts';

/** One open or click as it arrived, before classification. */
export interface RawTrackingEvent {
  kind: 'open' | 'click';
  issueId: number;
  subscriberId: string;
  linkPosition: number | null;
  /** The registered link's kind ('story', 'honeypot', ...) for clicks. */
  linkKind: string | null;
  method: string;
  ip: string | null;
  userAgent: string | null;
  occurredAt: Date;
  /** Distinct links this subscriber clicked in this issue within the last second, this one included. */
  linksClickedWithinSecond: number;
}

export interface Classification {
  class: EventClass;
  reason: string;
}

/** Opens sooner than this after the message left were fetched by a machine (prefetch, proxy). */
export const MACHINE_OPEN_WINDOW_MS = 10_000;
/** Clicks sooner than this after the message left were made by a link scanner. */
export const SCANNER_CLICK_WINDOW_MS = 5_000;
/** This many different links clicked within a second is a scanner following every URL. */
export const SCANNER_BURST_LINKS = 3;

// Image proxies that fetch the pixel on the reader's behalf (Gmail, Yahoo) or ahead of time (Apple MPP).
const proxyAgents: Array<[RegExp, string]> = [
  [/GoogleImageProxy/i, 'gmail-image-proxy'],
  [/YahooMailProxy/i, 'yahoo-image-proxy'],
  [/Mozilla\/5\.0$/, 'apple-mail-privacy-protection'],
];
const scannerAgents =
  /bot\b|crawler|spider|scanner|barracuda|mimecast|proofpoint|safelinks|trendmicro|symantec|forcepoint|python-requests|go-http-client|curl\/|wget\/|java\/|okhttp|libwww|headlesschrome|microsoft office (protocol discovery|existence discovery)/i;

// Address ranges of known mail proxies: Apple (Mail Privacy Protection relays) and Google's image proxy.
const proxyRanges: Array<[number, number, string]> = [
  cidr('17.0.0.0/8', 'apple-mail-privacy-protection'),
  cidr('66.102.0.0/20', 'gmail-image-proxy'),
  cidr('66.249.64.0/19', 'gmail-image-proxy'),
  cidr('74.125.0.0/16', 'gmail-image-proxy'),
];

function cidr(range: string, label: string): [number, number, string] {
  const [address = '', bits = '32'] = range.split('/');
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return [(ipv4ToInt(address) ?? 0) & mask, mask, label];
}

function ipv4ToInt(ip: string): number | null {
  const plain = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  const parts = plain.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    const octet = Number(part);
    if (!Number.isInteger(octet) || octet < 0 || octet > 255 || part === '') return null;
    value = value * 256 + octet;
  }
  return value >>> 0;
}

function proxyRangeOf(ip: string | null): string | null {
  if (!ip) return null;
  const value = ipv4ToInt(ip);
  if (value === null) return null;
  for (const [base, mask, label] of proxyRanges) if ((value & mask) >>> 0 === base >>> 0) return label;
  return null;
}

/**
 * Classifies an open or click from what the request and the delivery tell: human, machine (image proxies
 * and privacy prefetch, opens within seconds of delivery), scanner (HEAD requests, security scanners,
 * clicks within seconds of delivery, every link within a second, the hidden honeypot link), or unknown
 * (no user agent to judge by). Pure; `deliveredAt` is when the message left (null when unknown).
 */
export function classifyEvent(event: RawTrackingEvent, deliveredAt: Date | null): Classification {
  const agent = event.userAgent?.trim() ?? '';
  const sinceDelivery = deliveredAt ? event.occurredAt.getTime() - deliveredAt.getTime() : null;
  if (event.method === 'HEAD') return { class: 'scanner', reason: 'head-request' };
  if (event.kind === 'click') {
    if (event.linkKind === 'honeypot') return { class: 'scanner', reason: 'honeypot-link' };
    if (agent && scannerAgents.test(agent)) return { class: 'scanner', reason: 'scanner-user-agent' };
    if (sinceDelivery !== null && sinceDelivery < SCANNER_CLICK_WINDOW_MS) {
      return { class: 'scanner', reason: 'click-within-seconds-of-delivery' };
    }
    if (event.linksClickedWithinSecond >= SCANNER_BURST_LINKS)
      return { class: 'scanner', reason: 'all-links-at-once' };
    return agent ? { class: 'human', reason: 'browser' } : { class: 'unknown', reason: 'no-user-agent' };
  }
  for (const [pattern, label] of proxyAgents)
    if (pattern.test(agent)) return { class: 'machine', reason: label };
  const range = proxyRangeOf(event.ip);
  if (range) return { class: 'machine', reason: range };
  if (agent && scannerAgents.test(agent)) return { class: 'machine', reason: 'scanner-user-agent' };
  if (sinceDelivery !== null && sinceDelivery < MACHINE_OPEN_WINDOW_MS) {
    return { class: 'machine', reason: 'open-within-seconds-of-delivery' };
  }
  return agent ? { class: 'human', reason: 'mail-client' } : { class: 'unknown', reason: 'no-user-agent' };
}
