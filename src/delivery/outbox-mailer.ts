import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Mailer, OutgoingMessage, SendResult } from './mailer.ts';

/**
 * Writes each message as one .eml file (a complete RFC 5322 message built by nodemailer's composer)
 * into a folder: the zero-setup "send" of a fresh clone. The file name comes from the Message-ID, so
 * sending the same delivery again overwrites its file instead of adding a second one.
 */
export function createOutboxMailer(outboxDir: string): Mailer {
  let ready: Promise<unknown> | undefined;
  return {
    async send(message: OutgoingMessage): Promise<SendResult> {
      try {
        ready ??= mkdir(outboxDir, { recursive: true });
        await ready;
        const composer = new MailComposer({
          from: message.from,
          to: message.to,
          subject: message.subject,
          html: message.html,
          text: message.text,
          headers: message.headers,
          messageId: message.messageId,
          envelope: { from: message.envelopeFrom ?? message.from, to: [message.to] },
        });
        const raw = await composer.compile().build();
        const file = path.join(outboxDir, outboxFileName(message.messageId));
        // Write then rename: a reader never sees half a message.
        const partial = `${file}.${process.pid}.partial`;
        await writeFile(partial, raw);
        await rename(partial, file);
        return { ok: true };
      } catch (error) {
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
