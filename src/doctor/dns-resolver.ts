import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { DNSResolver } from 'mailauth';

/**
 * A resolver asking one DNS server (`host`, `host:port` or `[v6]:port`), or the system's servers when
 * none is given, in the shape mailauth takes. Throws for a server that is not an IP with an optional port.
 */
export function createDnsResolver(server?: string): DNSResolver {
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  if (server) {
    const host = server.startsWith('[') ? server.slice(1, server.indexOf(']')) : server.replace(/:\d+$/, '');
    if (!isIP(host)) throw new Error(`expected an IP address with an optional port, got "${server}"`);
    resolver.setServers([server]);
  }
  // Node's answers (string[][] for TXT, string[] for A, objects for MX) are what mailauth expects.
  return (name, rrtype) => resolver.resolve(name, rrtype) as ReturnType<DNSResolver>;
}
