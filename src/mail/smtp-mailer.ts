import { readFileSync } from 'node:fs';
import nodemailer, { type SMTPPoolOptions } from 'nodemailer';
import { classifySmtpError } from './classify-smtp-error.ts';
import { createMessageComposer, type DkimKey, type MessageComposer } from './compose-mime.ts';
import type { Mailer, OutgoingMessage, SendResult } from './mailer.ts';
import { relayMessageIdFromReply } from './relay-reply.ts';

export interface SmtpMailerOptions {
  /** smtp:// (STARTTLS when offered) or smtps:// (TLS from the first byte); credentials in the URL. */
  url: string;
  maxConnections: number;
  /** Signs with this key when no `composer` is given. */
  dkim?: DkimKey | undefined;
  /** The composer shared with the outbox mailer; built from `dkim` when absent. */
  composer?: MessageComposer;
  /** Seconds a connection may stay silent before it is dropped and the message retried. */
  socketTimeoutSeconds?: number;
}

/**
 * A pooled nodemailer transport. Each message is composed into its final bytes by the shared
 * MessageComposer (DKIM-signed there when configured, List-Unsubscribe and List-Unsubscribe-Post
 * included in the signed headers; not by nodemailer's composer, which would triple the CPU per
 * message) and handed over raw with its envelope, so nodemailer only streams it.
 */
export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  const timeout = (options.socketTimeoutSeconds ?? 60) * 1000;
  const transport = nodemailer.createTransport({
    url: options.url,
    pool: true,
    maxConnections: options.maxConnections,
    maxMessages: Number.POSITIVE_INFINITY,
    socketTimeout: timeout,
    greetingTimeout: Math.min(timeout, 30_000),
    connectionTimeout: Math.min(timeout, 30_000),
  } as SMTPPoolOptions & { pool: true });
  const composer = options.composer ?? createMessageComposer({ dkim: options.dkim });
  // A pool connection that fails between messages emits here; the message it was carrying reports it.
  transport.on('error', () => {});
  let closed = false;
  // Message buffers back from a finished send, reused by the next: at a thousand 60 KB messages a
  // second, fresh buffers would cost the process a full garbage collection every few seconds.
  const spare: Buffer[] = [];
  return {
    async send(message: OutgoingMessage): Promise<SendResult> {
      let raw: Buffer;
      const scratch = spare.pop();
      try {
        raw = await composer.compose(message, scratch);
      } catch (error) {
        if (scratch) spare.push(scratch);
        return {
          ok: false,
          kind: 'permanent',
          message: error instanceof Error ? error.message : String(error),
        };
      }
      try {
        const info = await transport.sendMail({
          raw,
          envelope: { from: message.envelopeFrom ?? addressOf(message.from), to: [message.to] },
        });
        // The bytes are on the server once it answered; a failed send keeps its buffer out of reuse,
        // as a socket being torn down may still hold it.
        const reusable = raw.buffer === scratch?.buffer ? scratch : ownBuffer(raw);
        if (reusable) spare.push(reusable);
        if (info.rejected.length > 0) {
          const rejected = (info as { rejectedErrors?: unknown[] }).rejectedErrors?.[0];
          return classifySmtpError((rejected ?? { message: 'recipient rejected' }) as never);
        }
        // Provider webhooks name the message by this id (SES, Postmark): kept on the delivery row.
        const relayMessageId = relayMessageIdFromReply(info.response);
        return relayMessageId ? { ok: true, relayMessageId } : { ok: true };
      } catch (error) {
        return classifySmtpError(error as never);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      transport.close();
    },
  };
}

/** Reads the DKIM key once at start-up; a missing file is a configuration error naming the variable. */
export function readDkimKey(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(
      `DKIM_PRIVATE_KEY_FILE: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** The whole buffer `raw` is a view of, when it has one to itself (large allocations do). */
function ownBuffer(raw: Buffer): Buffer | undefined {
  return raw.byteOffset === 0 && raw.buffer.byteLength >= 16_384 ? Buffer.from(raw.buffer) : undefined;
}

function addressOf(from: string): string {
  const match = /<([^>]+)>\s*$/.exec(from);
  return match?.[1] ?? from;
}
