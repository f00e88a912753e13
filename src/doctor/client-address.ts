import { isIP } from 'node:net';

/**
 * A documentation address (RFC 5737) that `recap doctor` writes in the X-Forwarded-For of its probe, as
 * any client could: a server that reports it as the client believes what clients write.
 */
export const SPOOFED_CLIENT = '198.51.100.23';

/** What the probe's answer said, and what this side knows. */
export interface ClientAddressFacts {
  /** The client address the server derived (TRUST_PROXY applied). */
  derived: string;
  /** The address of the peer that connected to the server. */
  peer: string;
  /** The X-Forwarded-For chain the server received. */
  forwardedFor: string;
  /** Host of PUBLIC_URL: a loopback host means doctor reached the server directly on this machine. */
  publicHost: string;
  /** TRUST_PROXY as this side's configuration says it (for the detail only). */
  trustProxySetting: string | undefined;
}

export interface ClientAddressVerdict {
  ok: boolean;
  warning?: boolean;
  detail: string;
  fix?: string;
}

const RESTART = 'then restart recap serve';

/**
 * Whether the server sees readers as themselves behind the proxy, from the addresses the probe echoed:
 * the entries the proxies appended to our (spoofed) X-Forwarded-For tell how many proxies there are;
 * the right TRUST_PROXY makes the server derive the first of them, the address the outermost proxy saw
 * us at. Pure.
 */
export function judgeClientAddress(facts: ClientAddressFacts): ClientAddressVerdict {
  const derived = plain(facts.derived);
  const peer = plain(facts.peer);
  const received = facts.forwardedFor
    .split(',')
    .map((entry) => plain(entry.trim()))
    .filter(Boolean);
  const appended = received[0] === SPOOFED_CLIENT ? received.slice(1) : received;
  const setting = facts.trustProxySetting
    ? ` (this configuration says TRUST_PROXY=${facts.trustProxySetting}; is recap serve running with it?)`
    : '';
  const hops = appended.length;
  if (derived === SPOOFED_CLIENT) {
    return {
      ok: false,
      detail: `the server took ${SPOOFED_CLIENT}, written by doctor in X-Forwarded-For, as the client: any reader can pick the address rate limits and the consent log record`,
      fix:
        hops > 0
          ? `TRUST_PROXY=${hops} in .env (the proxies in front: ${hops}), ${RESTART}`
          : `TRUST_PROXY unset in .env (no proxy adds X-Forwarded-For), ${RESTART}`,
    };
  }
  if (hops === 0) {
    if (isPrivate(peer) && !isLocalHost(facts.publicHost))
      return {
        ok: false,
        detail: `a proxy connects from ${peer} and adds no X-Forwarded-For: every reader looks like ${peer}`,
        fix: [
          'make the proxy forward the client address, then set TRUST_PROXY=1 in .env and restart recap serve:',
          '  nginx: proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
          '  Caddy: reverse_proxy adds it by itself',
        ].join('\n'),
      };
    return { ok: true, detail: `no proxy in front: the server sees the connection's address (${derived})` };
  }
  if (appended[0] === peer)
    return {
      ok: true,
      warning: true,
      detail: `cannot tell: the proxy saw doctor at its own address ${peer}; run recap doctor from another machine to check what readers look like`,
    };
  if (derived === peer)
    return {
      ok: false,
      detail: `behind ${hops === 1 ? 'a proxy' : `${hops} proxies`} (X-Forwarded-For: ${appended.join(', ')}), the server uses the proxy's own address: every reader looks like ${peer}${setting}`,
      fix: `TRUST_PROXY=${hops} in .env, ${RESTART}`,
    };
  if (derived === appended[0])
    return {
      ok: true,
      detail: `the server sees the address the proxy forwards (${derived}, ${hops === 1 ? 'one proxy' : `${hops} proxies`})`,
    };
  return {
    ok: false,
    detail: `the server sees ${derived}, a proxy's address, not the client's (${appended[0]}): it trusts fewer proxies than there are (${hops})${setting}`,
    fix: `TRUST_PROXY=${hops} in .env, ${RESTART}`,
  };
}

/** `::ffff:127.0.0.1` -> `127.0.0.1`; other addresses unchanged. */
function plain(address: string): string {
  return address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
}

function isPrivate(address: string): boolean {
  if (isIP(address) === 4)
    return /^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.)/.test(address);
  return address === '::1' || /^f[cd]/i.test(address) || /^fe80:/i.test(address);
}

function isLocalHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare.endsWith('.localhost') || bare === '::1' || bare.startsWith('127.');
}
