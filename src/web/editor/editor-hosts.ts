import { defaultLinkBase } from '../../http-address.ts';

/**
 * The Host header values the editor answers. A page on another site can make the browser of someone who
 * can reach the editor send requests to it (DNS rebinding: its own name is made to resolve to 127.0.0.1),
 * and then `Origin` equals `Host` and a loopback peer proves nothing; only the name the browser used
 * gives it away. So every editor request must name one of these hosts.
 */
export interface EditorHostSettings {
  /** EDITOR_HOSTS entries (`name` or `name:port`, lower-case); undefined for the loopback defaults. */
  editorHosts: string[] | undefined;
  /** EDITOR_URL; its host is always allowed. */
  editorUrl: string | undefined;
  /** HOST, the address the server binds: a specific one (not loopback, not wildcard) is how it is reached. */
  host: string;
}

/**
 * The allowed Host values for a server listening on `port`. An entry without a port allows that name with
 * the server's port, and without a port (a proxy on 80/443 that keeps the Host). Pure.
 */
export function allowedEditorHosts(settings: EditorHostSettings, port: number): ReadonlySet<string> {
  const entries = settings.editorHosts ?? ['localhost', '127.0.0.1', '[::1]'];
  const allowed = new Set<string>();
  for (const entry of entries) {
    if (/:[0-9]+$/.test(entry)) allowed.add(entry);
    else {
      allowed.add(entry);
      allowed.add(`${entry}:${port}`);
    }
  }
  if (settings.editorUrl) allowed.add(new URL(settings.editorUrl).host.toLowerCase());
  // Bound to one LAN address, the server can only be opened there: the printed address must answer.
  if (!settings.editorHosts) allowed.add(new URL(defaultLinkBase(settings.host, port)).host.toLowerCase());
  return allowed;
}

/** True when the Host header names an allowed editor host (compared lower-case, exact otherwise). */
export function isEditorHost(host: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (host === undefined) return false;
  return allowed.has(host.trim().toLowerCase());
}

/**
 * The editor's own address: EDITOR_URL, else the server's as PUBLIC_URL's default is built
 * (http://localhost:<port>, or http://HOST:<port> for a specific HOST). No trailing slash.
 */
export function editorBaseUrl(settings: EditorHostSettings, port: number): string {
  return settings.editorUrl ?? defaultLinkBase(settings.host, port);
}
