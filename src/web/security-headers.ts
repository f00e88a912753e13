import type { FastifyInstance } from 'fastify';

/**
 * Headers on every response (a route may replace them): no scripts, no plugins, no framing except by
 * the same origin (the editor previews its own pages in iframes), forms only back to this origin.
 */
export const securityHeaders: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; form-action 'self'; frame-ancestors 'self'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'SAMEORIGIN',
  'cross-origin-opener-policy': 'same-origin',
};

export function addSecurityHeaders(server: FastifyInstance): void {
  // Set before the handler runs (one call, no per-header checks on the way out); a route may override.
  server.addHook('onRequest', (_request, reply, done) => {
    reply.headers(securityHeaders);
    done();
  });
}
