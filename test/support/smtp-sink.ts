import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface ReceivedMessage {
  envelopeFrom: string;
  envelopeTo: string[];
  raw: Buffer;
  parsed: ParsedMail;
}

export interface SmtpSink {
  url: string;
  port: number;
  messages: ReceivedMessage[];
  close(): Promise<void>;
  /**
   * The relay goes away: stops listening (connections are refused) and ends the open ones with
   * "421 Server shutting down", as a restarting relay does.
   */
  goDown(): Promise<void>;
  /** The relay is back, on the same port. */
  comeBack(): Promise<void>;
  /**
   * The relay dies: stops listening and cuts every open connection at once, mid-message or not (a
   * message whose data was in but not yet answered is kept here and failed there, as with a real crash).
   */
  kill(): Promise<void>;
}

export interface SmtpSinkOptions {
  /** Decide per recipient: return an Error with `responseCode` to refuse it. */
  onRcptTo?: (address: string) => (Error & { responseCode?: number }) | undefined;
  /** Decide per message after DATA. */
  onData?: (raw: Buffer) => (Error & { responseCode?: number }) | undefined;
  serverOptions?: Partial<SMTPServerOptions>;
  /** A slow relay: waits this long before answering each message's data. */
  dataDelayMs?: number;
  /** The text of the 250 reply to an accepted message (SES: `Ok <message id>`); default smtp-server's own. */
  acceptReply?: (raw: Buffer) => string;
}

/** A real SMTP server in this process that keeps every accepted message, parsed with mailparser. */
export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: ReceivedMessage[] = [];
  let server = newSmtpServer(options, messages);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    async goDown() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Rather than after smtp-server's 30 s of grace: each open connection is told 421 and closed as
      // soon as its current message is through, so no message is both kept here and failed there.
      const open = (server as unknown as { connections: Set<OpenConnection> }).connections;
      const done = new Set<OpenConnection>();
      while ([...open].some((connection) => !done.has(connection))) {
        for (const connection of open) {
          if (done.has(connection) || connection.session?.envelope?.mailFrom) continue;
          done.add(connection);
          connection.send(421, 'Server shutting down');
          connection.close();
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      await closed;
    },
    async kill() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const open = (server as unknown as { connections: Set<{ _socket?: { destroy(): void } }> }).connections;
      for (const connection of open) connection._socket?.destroy();
      await closed;
    },
    async comeBack() {
      server = newSmtpServer(options, messages);
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
  };
}

interface OpenConnection {
  session?: { envelope?: { mailFrom?: unknown } };
  send(code: number, text: string): void;
  close(): void;
}

function newSmtpServer(options: SmtpSinkOptions, messages: ReceivedMessage[]): SMTPServer {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    size: 10 * 1024 * 1024,
    onRcptTo(address, _session, callback) {
      callback(options.onRcptTo?.(address.address) ?? undefined);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        const refusal = options.onData?.(raw);
        if (refusal) return callback(refusal);
        simpleParser(raw)
          .then((parsed) => {
            messages.push({
              envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              envelopeTo: session.envelope.rcptTo.map((r) => r.address),
              raw,
              parsed,
            });
            const reply = options.acceptReply?.(raw);
            const answer = () => (reply === undefined ? callback() : callback(null, reply));
            if (options.dataDelayMs) setTimeout(answer, options.dataDelayMs);
            else answer();
          })
          .catch(callback);
      });
    },
    ...options.serverOptions,
  });
  // A client killed mid-conversation (crash tests) resets its socket; the server reports that as an error event.
  server.on('error', () => {});
  return server;
}
