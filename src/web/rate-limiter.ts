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
