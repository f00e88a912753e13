/**
 * Output of the commands that print stored data (story titles, subjects, addresses, reasons). Data
 * comes from outside and may hold control characters or terminal escape sequences (ESC [ 2 J, OSC 8
 * links, a carriage return that overwrites the line): on a terminal every control character except
 * newline and tab is shown escaped (`\x1b`), so data can never drive the terminal. Piped output is
 * written unchanged for scripts (`--json` is escaped by JSON itself).
 */

// C0 controls but \t and \n, DEL, C1 controls (0x9b is a one-byte CSI), line and paragraph separators.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const controlCharacters = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Every control character but newline and tab as a visible `\xNN` / `\uNNNN` escape. Pure. */
export function escapeControlCharacters(text: string): string {
  return text.replace(controlCharacters, (char) => {
    const code = char.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

type Writable = { isTTY?: boolean; write(text: string): unknown };

/** Writes to stdout, escaping control characters when stdout is a terminal. */
export function writeOut(text: string, stream: Writable = process.stdout): void {
  stream.write(stream.isTTY ? escapeControlCharacters(text) : text);
}

/** Writes to stderr, escaping control characters when stderr is a terminal. */
export function writeErr(text: string, stream: Writable = process.stderr): void {
  stream.write(stream.isTTY ? escapeControlCharacters(text) : text);
}

/**
 * Ends the process quietly (exit 0) when the reader of stdout goes away (`recap issue list | head -1`):
 * EPIPE means nobody reads any more, not that the command failed. Other stream errors are rethrown.
 */
export function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}
