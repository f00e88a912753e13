/**
 * Errors meant for the person running recap: the CLI prints their message alone, no stack. Any layer
 * may throw them; this module imports nothing, so even `recap --help` can know them without loading
 * the configuration schema.
 */

/** Thrown when the environment does not describe a usable configuration; the message names each variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** An error caused by the user's input or environment: the CLI prints its message alone, no stack. */
export class UserError extends Error {
  override name = 'UserError';
}

export function isUserFacingError(error: unknown): error is Error {
  return error instanceof UserError || error instanceof ConfigError;
}

/** `smtp://user:pass@host` -> `smtp://***@host`; text without user-info is returned unchanged. */
export function maskUserinfo(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)\S*@/gi, '$1***@');
}

/** A URL with its password replaced by "***", for messages; "(unparseable URL)" when it does not parse. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
