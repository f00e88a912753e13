import { describe, expect, it } from 'vitest';
import { judgeClientAddress, SPOOFED_CLIENT } from '../../src/doctor/client-address.ts';

const facts = {
  derived: '203.0.113.9',
  peer: '127.0.0.1',
  forwardedFor: `${SPOOFED_CLIENT}, 203.0.113.9`,
  publicHost: 'recap.example.org',
  trustProxySetting: '1',
};

describe('what the probe says about the client address', () => {
  it('passes when the server derives the address the proxy saw', () => {
    expect(judgeClientAddress(facts).ok).toBe(true);
    // Two proxies (a CDN, then nginx) and TRUST_PROXY=2.
    expect(
      judgeClientAddress({ ...facts, forwardedFor: `${SPOOFED_CLIENT}, 203.0.113.9, 198.18.0.1` }).ok,
    ).toBe(true);
  });

  it('names the fix when the server trusts fewer proxies than there are', () => {
    const verdict = judgeClientAddress({
      ...facts,
      derived: '198.18.0.1',
      forwardedFor: `${SPOOFED_CLIENT}, 203.0.113.9, 198.18.0.1`,
    });
    expect(verdict).toMatchObject({ ok: false, fix: 'TRUST_PROXY=2 in .env, then restart recap serve' });
    expect(verdict.detail).toContain(
      'this configuration says TRUST_PROXY=1; is recap serve running with it?',
    );
  });

  it('says every reader looks like 127.0.0.1 when a proxy on this machine forwards nothing', () => {
    const verdict = judgeClientAddress({
      ...facts,
      derived: '::ffff:127.0.0.1',
      peer: '::ffff:127.0.0.1',
      forwardedFor: SPOOFED_CLIENT,
    });
    expect(verdict.ok).toBe(false);
    expect(verdict.detail).toBe(
      'a proxy connects from 127.0.0.1 and adds no X-Forwarded-For: every reader looks like 127.0.0.1',
    );
    expect(verdict.fix).toContain('proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;');
    // The same answer from a server reached directly on this machine is no proxy at all.
    expect(
      judgeClientAddress({
        ...facts,
        derived: '127.0.0.1',
        forwardedFor: SPOOFED_CLIENT,
        publicHost: 'localhost',
      }).ok,
    ).toBe(true);
  });

  it('cannot tell when the proxy saw doctor at its own address, and says so without failing', () => {
    const verdict = judgeClientAddress({
      ...facts,
      derived: '127.0.0.1',
      forwardedFor: `${SPOOFED_CLIENT}, 127.0.0.1`,
    });
    expect(verdict).toMatchObject({ ok: true, warning: true });
  });
});
