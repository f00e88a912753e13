import type { Server, Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

/**
 * The process that opened the embedded database's folder serves it to other `recap` processes over
 * its Unix socket, speaking the PostgreSQL wire protocol, so they use `pg` and Kysely's PostgresDialect
 * exactly as against a server.
 *
 * PGlite is ONE PostgreSQL session: every connection shares its transaction state, prepared statements
 * and locks. So the host runs one connection's work at a time, and a connection keeps that turn from its
 * first message until PostgreSQL reports it idle outside a transaction (ReadyForQuery 'I'): a whole
 * BEGIN…COMMIT, or a whole Parse/Bind/Execute…Sync batch, never interleaves with another connection's
 * statements. The holder's own queries take the same turns (its pool connects to this socket too).
 * A connection that closes while holding the turn has its batch synced and its transaction rolled
 * back; an error inside PGlite ends that connection only. Row locks, SKIP LOCKED and advisory locks
 * exclude nothing here (one session); transactions are serial instead.
 */

/** What the host answers when it serves no one (a short command holding the folder for itself). */
export interface BusyAnswer {
  mode: 'busy';
  message: string;
}

export interface ServeMode {
  mode: 'serve';
  /** The database, once open: connections arriving before then wait for it. */
  pglite: Promise<PGlite>;
  /** A connection idle inside a transaction this long is ended and rolled back (PostgreSQL's idle_in_transaction_session_timeout). */
  idleInTransactionMs?: number;
  /** Writes a plain SQL dump of the database; run in a turn of its own when a client sends DUMP_REQUEST. */
  dump?: (pglite: PGlite) => Promise<string>;
}

export interface EmbeddedHost {
  /** Refuses new connections, ends open ones (rolling back their work) and waits until no turn is running. Never throws. */
  drain(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const PROTOCOL_3 = 196608;
/**
 * recap's own start-up request, beside PostgreSQL's SSL (5679), cancel (5678) and GSS (5680) codes:
 * "send me a dump". The holder answers 'S' and the dump's text, or an ErrorResponse, then closes.
 * `recap backup` uses it, because PGlite's pg_dump needs the PGlite instance, which only the holder has.
 */
export const DUMP_REQUEST = (1234 << 16) | 5690;
const DEFAULT_IDLE_IN_TRANSACTION_MS = 60_000;

/** Attaches the protocol host to an already listening server (the listening socket is also the folder's lock). */
export function hostEmbedded(server: Server, answer: BusyAnswer | ServeMode): EmbeddedHost {
  const gate = new TurnGate();
  const sessions = new Set<Session>();
  let draining = false;
  let startupReply: Promise<Buffer> | undefined;
  const serve = answer.mode === 'serve' ? answer : undefined;

  // Every connection shares PGlite's one session: its start-up reply is asked once and replayed, so
  // connecting never waits for another connection's transaction.
  const replyToStartup = (message: Uint8Array) => {
    if (!serve) throw new Error('not serving');
    startupReply ??= serve.pglite.then((db) => gate.run(() => execute(db, message)));
    return startupReply;
  };

  server.on('connection', (socket: Socket) => {
    if (draining || !serve) {
      refuse(
        socket,
        draining ? '57P03' : '55006',
        draining
          ? 'the recap process holding the embedded database is stopping'
          : (answer as BusyAnswer).message,
      );
      return;
    }
    const session = new Session(socket, serve, gate, replyToStartup, () => sessions.delete(session));
    sessions.add(session);
  });

  return {
    async drain() {
      draining = true;
      await Promise.all([...sessions].map((session) => session.end()));
      await gate.run(async () => {});
    },
  };
}

/** One connection's turn at a time; FIFO. `run` takes and gives back a turn around a function. */
class TurnGate {
  private owner: object | undefined;
  private readonly waiting: Array<{ who: object; wake: () => void }> = [];

  acquire(who: object): Promise<void> {
    if (this.owner === undefined) {
      this.owner = who;
      return Promise.resolve();
    }
    return new Promise((wake) => this.waiting.push({ who, wake }));
  }

  release(who: object): void {
    if (this.owner !== who) return;
    const next = this.waiting.shift();
    this.owner = next?.who;
    next?.wake();
  }

  /** Forgets a waiter that went away before its turn. */
  withdraw(who: object): void {
    const index = this.waiting.findIndex((waiter) => waiter.who === who);
    if (index >= 0) this.waiting.splice(index, 1);
  }

  async run<T>(body: () => Promise<T>): Promise<T> {
    const who = {};
    await this.acquire(who);
    try {
      return await body();
    } finally {
      this.release(who);
    }
  }
}

class Session {
  private buffer: Buffer = Buffer.alloc(0);
  private started = false;
  private readonly pending: Buffer[] = [];
  private pumping: Promise<void> | undefined;
  private holding = false;
  private waitingForTurn = false;
  private closed = false;
  /** Messages sent since the last ReadyForQuery: an extended-protocol batch not yet ended by Sync. */
  private openBatch = false;
  /** Transaction status from the last ReadyForQuery: 'I' idle, 'T' in a transaction, 'E' in a failed one. */
  private status = 'I';
  private idleTimer: NodeJS.Timeout | undefined;
  private finished: Promise<void> | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly serve: ServeMode,
    private readonly gate: TurnGate,
    private readonly replyToStartup: (message: Uint8Array) => Promise<Buffer>,
    private readonly onFinished: () => void,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      void this.finish();
    });
  }

  /** Ends the connection from the host's side; resolves once its work is rolled back. */
  end(): Promise<void> {
    this.socket.destroy();
    this.closed = true;
    return this.finish();
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (!this.closed) {
      const message = this.started ? takeTypedMessage(this) : takeStartupMessage(this);
      if (!message) break;
      if (!this.started) this.startup(message);
      else {
        this.pending.push(message);
        this.pump();
      }
    }
  }

  /** Splits the read buffer (used by the message readers below). */
  take(length: number): Buffer {
    const message = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    return message;
  }

  peek(): Buffer {
    return this.buffer;
  }

  private startup(message: Buffer): void {
    const code = message.readInt32BE(4);
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
      this.socket.write('N');
      return;
    }
    if (code === DUMP_REQUEST) {
      this.started = true;
      this.pumping = this.answerDump().finally(() => {
        this.pumping = undefined;
      });
      return;
    }
    if (code !== PROTOCOL_3) {
      // A CancelRequest (PGlite runs one statement to its end) or an unknown protocol version.
      this.socket.destroy();
      return;
    }
    this.started = true;
    // Messages that arrive before the reply queue behind it.
    this.pumping = this.replyToStartup(new Uint8Array(message)).then(
      (reply) => {
        if (!this.closed) this.socket.write(reply);
        this.pumping = undefined;
        this.pump();
      },
      (error: unknown) => {
        this.pumping = undefined;
        this.fail('57P03', `the embedded database could not be opened: ${messageOf(error)}`);
      },
    );
  }

  /** The whole dump in one turn: nobody's transaction runs beside it, so it is consistent. */
  private async answerDump(): Promise<void> {
    const { dump } = this.serve;
    try {
      if (!dump) throw new Error('this process cannot write backups');
      const db = await this.serve.pglite;
      const text = await this.gate.run(() => dump(db));
      if (!this.closed) this.socket.end(Buffer.concat([Buffer.from('S'), Buffer.from(text)]));
      this.closed = true;
    } catch (error) {
      this.fail('XX000', `the backup failed: ${messageOf(error)}`);
    }
  }

  private pump(): void {
    if (this.pumping || this.closed) return;
    this.pumping = this.runPending().finally(() => {
      this.pumping = undefined;
      if (this.closed) void this.finish();
      else if (this.pending.length > 0) this.pump();
    });
  }

  private async runPending(): Promise<void> {
    let db: PGlite;
    try {
      db = await this.serve.pglite;
    } catch (error) {
      this.fail('57P03', `the embedded database could not be opened: ${messageOf(error)}`);
      return;
    }
    while (this.pending.length > 0 && !this.closed) {
      const message = this.pending.shift() as Buffer;
      if (message[0] === 0x58 /* 'X' Terminate */) {
        this.socket.end();
        this.closed = true;
        return;
      }
      if (!this.holding) {
        this.waitingForTurn = true;
        await this.gate.acquire(this);
        this.waitingForTurn = false;
        this.holding = true;
        if (this.closed) return;
      }
      clearTimeout(this.idleTimer);
      let reply: Buffer;
      try {
        reply = await execute(db, message);
      } catch (error) {
        // PGlite itself failed (not an SQL error, which comes back as ErrorResponse): end this
        // connection only; finish() gives the turn back so other connections carry on.
        this.fail('XX000', `the embedded database failed: ${messageOf(error)}`);
        return;
      }
      if (!this.closed) this.socket.write(reply);
      const status = lastReadyStatus(reply);
      if (status === undefined) this.openBatch = true;
      else {
        this.openBatch = false;
        this.status = status;
        if (status === 'I') this.giveBackTurn();
      }
    }
    if (this.holding && !this.closed) {
      const limit = this.serve.idleInTransactionMs ?? DEFAULT_IDLE_IN_TRANSACTION_MS;
      this.idleTimer = setTimeout(
        () =>
          this.fail(
            '25P03',
            `terminating connection: idle in a transaction for ${limit / 1000} s while others wait for the embedded database`,
          ),
        limit,
      );
      this.idleTimer.unref();
    }
  }

  private giveBackTurn(): void {
    this.holding = false;
    this.gate.release(this);
  }

  private fail(code: string, text: string): void {
    if (!this.closed) this.socket.end(errorResponse('FATAL', code, text));
    this.closed = true;
    void this.finish();
  }

  /** Once: waits for the running message, then ends an open batch and rolls back an open transaction. */
  private finish(): Promise<void> {
    if (this.pumping) return this.pumping.then(() => this.finish());
    this.finished ??= this.cleanUp();
    return this.finished;
  }

  private async cleanUp(): Promise<void> {
    clearTimeout(this.idleTimer);
    this.pending.length = 0;
    if (this.waitingForTurn) this.gate.withdraw(this);
    if (this.holding) {
      try {
        const db = await this.serve.pglite;
        if (this.openBatch) {
          const status = lastReadyStatus(await execute(db, SYNC));
          if (status) this.status = status;
        }
        if (this.status !== 'I') await execute(db, simpleQuery('ROLLBACK'));
      } catch {
        // Nothing more to undo: PGlite failed, and the next statement reports it.
      } finally {
        this.giveBackTurn();
      }
    }
    // end(), not destroy(): a FATAL error written by fail() still reaches the client.
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1_000).unref();
    this.onFinished();
  }
}

/**
 * Runs one protocol message and copies the reply: PGlite returns a view of memory its next message
 * overwrites, while a socket may still be writing it (and the start-up reply is kept for replay).
 */
async function execute(db: PGlite, message: Uint8Array): Promise<Buffer> {
  return Buffer.from(await db.execProtocolRaw(new Uint8Array(message)));
}

function takeStartupMessage(session: Session): Buffer | undefined {
  const buffer = session.peek();
  if (buffer.length < 8) return undefined;
  const length = buffer.readInt32BE(0);
  if (length < 8 || length > 10_000) return session.take(buffer.length).subarray(0, 8); // garbage: refused by code
  return buffer.length >= length ? session.take(length) : undefined;
}

function takeTypedMessage(session: Session): Buffer | undefined {
  const buffer = session.peek();
  if (buffer.length < 5) return undefined;
  const length = 1 + buffer.readInt32BE(1);
  return buffer.length >= length ? session.take(length) : undefined;
}

/** The transaction status of the last ReadyForQuery ('Z') in a reply, if it has one. */
function lastReadyStatus(reply: Uint8Array): string | undefined {
  const view = Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength);
  let status: string | undefined;
  for (let at = 0; at + 5 <= view.length; at += 1 + view.readInt32BE(at + 1)) {
    if (view[at] === 0x5a && at + 5 < view.length) status = String.fromCharCode(view[at + 5] as number);
  }
  return status;
}

const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);

function simpleQuery(text: string): Uint8Array {
  const body = Buffer.from(`${text}\0`);
  const message = Buffer.alloc(5 + body.length);
  message.write('Q');
  message.writeInt32BE(4 + body.length, 1);
  body.copy(message, 5);
  return new Uint8Array(message);
}

function errorResponse(severity: string, code: string, text: string): Buffer {
  const fields = Buffer.from(`S${severity}\0V${severity}\0C${code}\0M${text}\0\0`);
  const message = Buffer.alloc(5 + fields.length);
  message.write('E');
  message.writeInt32BE(4 + fields.length, 1);
  fields.copy(message, 5);
  return message;
}

/** Answers a connection with one FATAL error (after SSL negotiation, which `pg` may try first) and closes it. */
function refuse(socket: Socket, code: string, text: string): void {
  socket.on('error', () => {});
  let buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    if (buffer.length < 8) return;
    const request = buffer.readInt32BE(4);
    if (request === SSL_REQUEST || request === GSSENC_REQUEST) {
      buffer = buffer.subarray(8);
      socket.write('N');
      return;
    }
    socket.end(errorResponse('FATAL', code, text));
  });
  socket.setTimeout(5_000, () => socket.destroy());
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
