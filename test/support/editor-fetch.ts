/**
 * fetch as an editor who opened the printed link: every request carries the editor's token (Bearer),
 * unless it names its own Authorization. `token` is read per request (the server starts in a hook).
 */
export function editorFetch(token: () => string): typeof fetch {
  return (input, init = {}) => {
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${token()}`);
    return fetch(input, { ...init, headers });
  };
}
