import type { Config, ListenOverrides } from '../config.ts';
import { UserError } from '../errors.ts';

/** `recap serve --port --host` as loadConfig takes them: validated here, one line per bad flag. */
export function parseListenFlags(options: { port?: string; host?: string }): ListenOverrides {
  const overrides: ListenOverrides = {};
  if (options.port !== undefined) {
    const port = options.port.trim();
    if (!/^[0-9]{1,5}$/.test(port) || Number(port) > 65535)
      throw new UserError(`--port: expected a port number from 0 to 65535 (got "${options.port}")`);
    overrides.port = Number(port);
  }
  if (options.host !== undefined) {
    const host = options.host.trim();
    if (host === '' || /[\s/]/.test(host))
      throw new UserError(
        `--host: expected an address or host name to bind, such as 0.0.0.0 (got "${options.host}")`,
      );
    overrides.host = host;
  }
  return overrides;
}

/** Where links in mail point, and why: the operator sees at start-up what readers will click. */
export function linksLine(
  config: Pick<Config, 'publicUrl' | 'publicUrlSet'>,
  publicUrl = config.publicUrl,
): string {
  return config.publicUrlSet
    ? `${publicUrl} (PUBLIC_URL)`
    : `${publicUrl} (PUBLIC_URL unset: this server's address; set it to the address readers open)`;
}

/**
 * The address that opens the editor: with a token made for this start, the link that carries it (as
 * Jupyter prints one; opening it sets the cookie and leaves a clean address); with EDITOR_TOKEN, the
 * editor's address alone, as a configured secret never goes to a log. Pure.
 */
export function editorLink(editor: { url: string; token: string; generated: boolean }): string {
  return editor.generated ? `${editor.url}/?token=${encodeURIComponent(editor.token)}` : `${editor.url}/`;
}

/** The start line's words on the editor: its link, and where its token comes from. Pure. */
export function editorLine(editor: { url: string; token: string; generated: boolean }): string {
  return editor.generated
    ? `${editorLink(editor)} (a token made for this start: set EDITOR_TOKEN to keep one)`
    : `${editorLink(editor)} (open it once with ?token=EDITOR_TOKEN)`;
}
