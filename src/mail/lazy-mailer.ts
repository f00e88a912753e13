import type { Mailer, OutgoingMessage, SendResult } from './mailer.ts';

/** A Mailer that builds the real one on first use; `open()` builds it now. */
export interface LazyMailer extends Mailer {
  /** Builds the mailer (once) and returns it; rejects when it cannot be built (e.g. an unreadable DKIM key). */
  open(): Promise<Mailer>;
}

/**
 * Stands in for a mailer until a message is sent: commands that never send never load what `build`
 * loads (nodemailer, the DKIM key). A failed build is not kept: the next use tries again. `close()`
 * closes the real mailer only if it was built; idempotent.
 */
export function lazyMailer(build: () => Promise<Mailer>): LazyMailer {
  let built: Promise<Mailer> | undefined;
  let closed = false;
  const open = () => {
    built ??= build().catch((error: unknown) => {
      built = undefined;
      throw error;
    });
    return built;
  };
  return {
    open,
    async send(message: OutgoingMessage): Promise<SendResult> {
      return (await open()).send(message);
    },
    async close() {
      if (closed || !built) return;
      closed = true;
      await (await built.catch(() => undefined))?.close();
    },
  };
}
