import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const EDITOR_COOKIE = 'recap_editor';

export interface EditorRequestFacts {
  method: string;
  /** The Host header (host:port). */
  host: string | undefined;
  origin: string | undefined;
  secFetchSite: string | undefined;
  authorization: string | undefined;
  cookieHeader: string | undefined;
  /** The `token` query parameter, if any. */
  queryToken: string | undefined;
}

export type EditorAccess =
  | { ok: true; setCookie: boolean }
  | { ok: false; status: 401 | 403; reason: string };

/**
 * Who may use the editor: whoever holds its token (EDITOR_TOKEN, else the one `recap serve` made at start
 * and printed), as a Bearer header, the cookie, or `?token=` once (which then sets the cookie). Where a
 * request comes from proves nothing: a reverse proxy on this machine makes every visitor a loopback peer
 * whose Host names 127.0.0.1, with no forwarding header unless it was told to add one. Forms must come
 * from the editor's own pages (Origin / Sec-Fetch-Site), so another site open in the same browser cannot
 * approve or send. Pure.
 */
export function checkEditorAccess(facts: EditorRequestFacts, editorToken: string): EditorAccess {
  if (facts.method !== 'GET' && facts.method !== 'HEAD') {
    // Sec-Fetch-Site is the browser's own word; without it (older clients) the Origin must name this host.
    // A form sent under `Referrer-Policy: no-referrer` carries `Origin: null`, so null alone proves nothing.
    const foreign =
      facts.secFetchSite !== undefined
        ? !['same-origin', 'none'].includes(facts.secFetchSite)
        : facts.origin !== undefined && (facts.origin === 'null' || hostOf(facts.origin) !== facts.host);
    if (foreign) {
      return { ok: false, status: 403, reason: 'this form must be sent from the editor’s own pages' };
    }
  }
  const bearer = /^Bearer\s+(.+)$/i.exec(facts.authorization ?? '')?.[1]?.trim();
  if (bearer !== undefined && sameSecret(bearer, editorToken)) return { ok: true, setCookie: false };
  // Cookies are not port-scoped: a page on another localhost port may have set a second (or a malformed)
  // recap_editor cookie. Any one of them that matches is enough; the others are ignored.
  const cookies = readCookies(facts.cookieHeader, EDITOR_COOKIE);
  if (cookies.some((cookie) => sameSecret(cookie, editorToken))) return { ok: true, setCookie: false };
  if (facts.queryToken !== undefined && sameSecret(facts.queryToken, editorToken))
    return { ok: true, setCookie: true };
  return {
    ok: false,
    status: 401,
    reason:
      'open the editor once with the link recap serve printed when it started (…/?token=…), or with ?token=EDITOR_TOKEN',
  };
}

/** A fresh editor token for one server's life, when EDITOR_TOKEN is unset (as long as a set one must be). */
export function newEditorToken(): string {
  return randomBytes(24).toString('base64url');
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/** Every value of the cookie `name`, %-decoded; a value that does not decode (`%E0%A4%A`) is left out. */
function readCookies(header: string | undefined, name: string): string[] {
  const values: string[] = [];
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key !== name) continue;
    try {
      values.push(decodeURIComponent(rest.join('=')));
    } catch {
      // Malformed %-encoding: not our cookie's value, and no reason to fail the request.
    }
  }
  return values;
}

function sameSecret(given: string, expected: string): boolean {
  // Hashing first makes the comparison constant-time whatever the lengths.
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
