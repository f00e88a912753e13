import { isIP } from 'node:net';

/** True for an address that binds every interface (`0.0.0.0`, `::`): nobody can open that address itself. */
export function isWildcardHost(host: string): boolean {
  return ['0.0.0.0', '::', '[::]', '0:0:0:0:0:0:0:0'].includes(host.trim().toLowerCase());
}

/**
 * The URL to open, on this machine, a server bound to `host`:`port`: a wildcard bind is opened at
 * localhost; any other address as it is (an IPv6 literal in brackets). No trailing slash. Pure.
 */
export function reachableUrl(host: string, port: number): string {
  if (isWildcardHost(host)) return `http://localhost:${port}`;
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/**
 * Where links point when PUBLIC_URL (or EDITOR_URL) is unset: the server this configuration starts, as
 * a person on this machine types it. A loopback or wildcard bind is `http://localhost:PORT` (the
 * documented default), any other HOST is itself. Pure.
 */
export function defaultLinkBase(host: string, port: number): string {
  const name = host.trim().toLowerCase();
  if (isWildcardHost(name) || name === 'localhost' || name === '127.0.0.1') return `http://localhost:${port}`;
  return reachableUrl(host.trim(), port);
}
