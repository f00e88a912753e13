import { describe, expect, it } from 'vitest';
import { classifyEvent, type RawTrackingEvent } from '../../src/tracking/classify-event.ts';

const delivered = new Date('2026-11-23T08:00:00Z');
const later = new Date('2026-11-23T09:30:00Z');
const CHROME =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';

function event(overrides: Partial<RawTrackingEvent>): RawTrackingEvent {
  return {
    kind: 'open',
    issueId: 1,
    subscriberId: '1',
    linkPosition: null,
    linkKind: null,
    method: 'GET',
    ip: '203.0.113.9',
    userAgent: CHROME,
    occurredAt: later,
    linksClickedWithinSecond: 1,
    ...overrides,
  };
}

describe('classifyEvent', () => {
  it('counts a browser open or click long after delivery as human', () => {
    expect(classifyEvent(event({}), delivered).class).toBe('human');
    expect(classifyEvent(event({ kind: 'click', linkPosition: 3, linkKind: 'story' }), delivered).class).toBe(
      'human',
    );
  });

  it('counts image proxies and Apple Mail Privacy Protection as machine opens', () => {
    expect(
      classifyEvent(event({ userAgent: 'Mozilla/5.0 (via ggpht.com GoogleImageProxy)' }), delivered),
    ).toEqual({
      class: 'machine',
      reason: 'gmail-image-proxy',
    });
    expect(
      classifyEvent(event({ userAgent: 'YahooMailProxy; https://help.yahoo.com' }), delivered).class,
    ).toBe('machine');
    expect(classifyEvent(event({ userAgent: 'Mozilla/5.0' }), delivered).reason).toBe(
      'apple-mail-privacy-protection',
    );
    expect(classifyEvent(event({ ip: '17.58.101.2' }), delivered).reason).toBe(
      'apple-mail-privacy-protection',
    );
    expect(classifyEvent(event({ ip: '::ffff:66.249.84.10' }), delivered).reason).toBe('gmail-image-proxy');
  });

  it('counts an open within seconds of delivery as machine, a click as scanner', () => {
    const soon = new Date(delivered.getTime() + 2_000);
    expect(classifyEvent(event({ occurredAt: soon }), delivered).class).toBe('machine');
    expect(classifyEvent(event({ kind: 'click', linkPosition: 1, occurredAt: soon }), delivered).class).toBe(
      'scanner',
    );
    expect(classifyEvent(event({ occurredAt: soon }), null).class).toBe('human');
  });

  it('counts HEAD requests, security scanners, honeypot links and link bursts as scanners', () => {
    expect(classifyEvent(event({ method: 'HEAD' }), delivered).reason).toBe('head-request');
    const click = { kind: 'click' as const, linkPosition: 2, linkKind: 'story' };
    expect(classifyEvent(event({ ...click, userAgent: 'Mimecast URL Protect' }), delivered).class).toBe(
      'scanner',
    );
    expect(classifyEvent(event({ ...click, linkKind: 'honeypot' }), delivered).reason).toBe('honeypot-link');
    expect(classifyEvent(event({ ...click, linksClickedWithinSecond: 3 }), delivered).reason).toBe(
      'all-links-at-once',
    );
    expect(classifyEvent(event({ ...click, linksClickedWithinSecond: 2 }), delivered).class).toBe('human');
  });

  it('leaves a request without user agent unknown', () => {
    expect(classifyEvent(event({ userAgent: null }), delivered).class).toBe('unknown');
    expect(classifyEvent(event({ kind: 'click', linkPosition: 1, userAgent: '' }), delivered).class).toBe(
      'unknown',
    );
  });
});
