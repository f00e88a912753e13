import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createMessageComposer, type MessageComposer } from './compose-mime.ts';
import type { Mailer, OutgoingMessage, SendResult } from './mailer.ts';

/**
 * Writes each message as one .eml file into a folder: the zero-setup "send" of a fresh clone. The
 * bytes come from the same composer the SMTP mailer uses (CRLF, base64 parts, DKIM-signed when a key
 * is configured), so a file is exactly what the wire would carry. The file name comes from the
 * Message-ID, so sending the same delivery again overwrites its file instead of adding a second one.
 */
export function createOutboxMailer(
  outboxDir: string,
  composer: MessageComposer = createMessageComposer(),
): Mailer {
  let ready: Promise<unknown> | undefined;
  return {
    async send(message: OutgoingMessage): Promise<SendResult> {
      let raw: Buffer;
      try {
        raw = await composer.compose(message);
      } catch (error) {
        return { ok: false, kind: 'permanent', message: (error as Error).message };
      }
      const file = path.join(outboxDir, outboxFileName(message.messageId));
      // Write then rename: a reader never sees half a message.
      const partial = `${file}.${process.pid}.partial`;
      try {
        ready ??= mkdir(outboxDir, { recursive: true });
        await ready;
        await writeFile(partial, raw);
        await rename(partial, file);
        return { ok: true };
      } catch (error) {
        // A full disk or a refused rename leaves no half message behind (the send pauses on this answer).
        await rm(partial, { force: true }).catch(() => {});
        return {
          ok: false,
          kind: 'fatal',
          message: `cannot write to the outbox ${outboxDir}: ${(error as Error).message}`,
        };
      }
    },
    async close() {},
  };
}

/** `<recap.2026-W48.42@example.com>` -> `recap.2026-W48.42@example.com.eml`; anything unsafe becomes "_". */
export function outboxFileName(messageId: string): string {
  return `${messageId.replace(/^<|>$/g, '').replace(/[^A-Za-z0-9._@+-]/g, '_')}.eml`;
}
