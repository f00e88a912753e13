import ipaddr from 'ipaddr.js';

/**
 * A fixed-window counter per key (an IP address), in the memory of this process: with several server
 * processes each allows `limit` per window. Old windows are forgotten as keys come back or the map grows.
 */
export interface RateLimiter {
  /** True when the key may proceed (and counts the attempt). */
  allow(key: string, now?: number): boolean;
}

export function createRateLimiter(limit: number, windowMs: number): RateLimiter {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    allow(key, now = Date.now()) {
      if (windows.size > 10_000) {
        for (const [k, w] of windows) if (now - w.start >= windowMs) windows.delete(k);
      }
      const window = windows.get(key);
      if (!window || now - window.start >= windowMs) {
        windows.set(key, { start: now, count: 1 });
        return true;
      }
      window.count += 1;
      return window.count <= limit;
    },
  };
}

/**
 * The key a client is counted under: an IPv4 address as is (also when IPv4-mapped, `::ffff:a.b.c.d`),
 * an IPv6 address by its /64, since one host or home line is routinely given a whole /64 and could
 * otherwise take a fresh allowance with each of its addresses. Anything unparseable is its own key.
 */
export function rateLimitKey(ip: string): string {
  const address = ip.replace(/%.*$/, '');
  if (!ipaddr.isValid(address)) return ip;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const v6 = parsed as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${v6.toString()}/64`).toString()}/64`;
}
