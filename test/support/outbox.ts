import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { type ParsedMail, simpleParser } from 'mailparser';

export interface OutboxMail {
  file: string;
  parsed: ParsedMail;
}

/** Parsed files by path, size and mtime: polling a folder of hundreds of issues parses each one once. */
const parsedFiles = new Map<string, { stamp: string; parsed: Promise<ParsedMail> }>();

/** Every complete .eml file of an outbox folder, parsed (none when the folder does not exist yet). */
export async function readOutbox(dir: string): Promise<OutboxMail[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.eml')).sort();
  } catch {
    return [];
  }
  return Promise.all(
    names.map(async (name) => {
      const file = path.join(dir, name);
      const { size, mtimeMs } = await stat(file);
      const stamp = `${size} ${mtimeMs}`;
      let entry = parsedFiles.get(file);
      if (entry?.stamp !== stamp) {
        entry = { stamp, parsed: readFile(file).then((raw) => simpleParser(raw)) };
        parsedFiles.set(file, entry);
      }
      return { file: name, parsed: await entry.parsed };
    }),
  );
}

/** The addresses a parsed message is to. */
export function recipientsOf(mail: ParsedMail): string[] {
  const to = mail.to === undefined ? [] : Array.isArray(mail.to) ? mail.to : [mail.to];
  return to.flatMap((group) => group.value.map((entry) => (entry.address ?? '').toLowerCase()));
}

/**
 * Waits until `find` returns a message (polling every 50 ms, at most `timeoutMs`), for mail sent after
 * an HTTP answer. Rejects with what was found instead, so a failure says which mails did arrive.
 */
export async function waitForMail<T>(
  find: () => Promise<T | undefined> | T | undefined,
  describe: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no ${describe} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The first http(s) URL in `text` whose path starts with `prefix` (e.g. "/confirm/"). */
export function linkIn(text: string | undefined, prefix: string): string | undefined {
  for (const match of (text ?? '').matchAll(/https?:\/\/[^\s"<>]+/g)) {
    if (new URL(match[0]).pathname.startsWith(prefix)) return match[0];
  }
  return undefined;
}
