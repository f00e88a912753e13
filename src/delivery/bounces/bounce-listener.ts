import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { type BounceDeps, handleInbound, type InboundOutcome } from './handle-inbound.ts';

export interface BounceListenerOptions {
  /** Defaults to config.bounceSmtpPort; 0 picks a free port. */
  port?: number;
  /** Defaults to config.bounceSmtpHost (127.0.0.1: the local MTA forwards bounces to it). */
  host?: string;
  /** Called with what became of each message (tests, logs). */
  onOutcome?: (outcomes: InboundOutcome[]) => void;
  /** One line per dropped or failed message; defaults to stderr. */
  log?: (line: string) => void;
}

const MAX_MESSAGE_BYTES = 5 * 1024 * 1024;
/** Concurrent SMTP connections: a reporting MTA needs a few; more only serves a flood. */
export const MAX_CONNECTIONS = 20;
/** Recipients per message: a bounce or a mailto unsubscribe has one; a few allow for MTA quirks. */
export const MAX_RECIPIENTS = 5;

/**
 * The inbound SMTP listener of the VERP return path and the List-Unsubscribe mailto address. Every
 * message is accepted (250) once handled, so reporting MTAs do not retry; unknown or malformed mail is
 * logged and dropped and never stops the listener. A database failure answers 451 so the MTA retries.
 * It trusts nothing but tokens we signed (see handleInbound), binds BOUNCE_SMTP_HOST (loopback by
 * default), and caps connections (MAX_CONNECTIONS), recipients (MAX_RECIPIENTS) and size.
 */
export async function startBounceListener(
  deps: BounceDeps,
  options: BounceListenerOptions = {},
): Promise<{ port: number; address: string; close(): Promise<void> }> {
  const log = options.log ?? ((line: string) => process.stderr.write(`bounces: ${line}\n`));
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    banner: 'Weekly AI Recap bounce listener',
    size: MAX_MESSAGE_BYTES,
    maxClients: MAX_CONNECTIONS,
    onRcptTo(_address, session, callback) {
      if (session.envelope.rcptTo.length >= MAX_RECIPIENTS)
        return callback(Object.assign(new Error('too many recipients'), { responseCode: 452 }));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_MESSAGE_BYTES) chunks.push(chunk);
      });
      stream.on('error', (error) => log(`stream error: ${error.message}`));
      stream.on('end', () => {
        if (size > MAX_MESSAGE_BYTES || (stream as { sizeExceeded?: boolean }).sizeExceeded) {
          log(`dropped a message of ${size} bytes (limit ${MAX_MESSAGE_BYTES})`);
          return callback(Object.assign(new Error('message too large'), { responseCode: 552 }));
        }
        const to = session.envelope.rcptTo.map((rcpt) => rcpt.address);
        handleInbound(deps, to, Buffer.concat(chunks))
          .then((outcomes) => {
            for (const outcome of outcomes) {
              if (outcome.kind === 'dropped') log(`dropped mail to ${to.join(', ')}: ${outcome.reason}`);
            }
            options.onOutcome?.(outcomes);
            callback();
          })
          .catch((error: unknown) => {
            const reason = error instanceof Error ? error.message : String(error);
            log(`could not process mail to ${to.join(', ')}: ${reason}`);
            callback(Object.assign(new Error('temporary failure, try again later'), { responseCode: 451 }));
          });
      });
    },
  });
  server.on('error', (error) => log(`listener error: ${error.message}`));
  const port = options.port ?? deps.config.bounceSmtpPort ?? 0;
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, options.host ?? deps.config.bounceSmtpHost, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.server.address() as AddressInfo).port,
    /** The address actually bound. */
    address: (server.server.address() as AddressInfo).address,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
