import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { DUMP_REQUEST, hostEmbedded } from './embedded-host.ts';

/**
 * Who opens the embedded database's folder, and how the others reach it.
 *
 * The lock is the holder's Unix socket (`recap.sock` in the data folder): the kernel closes it with
 * the process, so a killed holder, a zombie, or a pid reused by another program never holds the folder;
 * a socket file that refuses connections is stale. A process that finds a live socket connects through
 * it; one that finds none takes the socket, then opens PGlite. A long-running command serves the
 * database on its socket; a short one answers "busy" on it while it runs.
 */

/** The embedded database's folder is open in another live process that does not serve it. */
export class DatabaseHeldError extends Error {
  override name = 'DatabaseHeldError';
}

export type EmbeddedRole = 'holder' | 'client' | 'exclusive';

export interface EmbeddedFolder {
  /** `holder`: opened it and serves it; `client`: goes through the holder; `exclusive`: opened it, serves no one. */
  role: EmbeddedRole;
  /** A pool of one connection: PGlite is one session, so one connection per process, as on the folder itself. */
  pool: pg.Pool;
  close(): Promise<void>;
}

export interface OpenFolderOptions {
  dataDir: string;
  /** Long-running commands serve the database to other `recap` processes. */
  share: boolean;
  /** Opens PGlite on the folder; called only once this process holds the socket. */
  openPglite(): Promise<PGlite>;
  /** Wraps PGlite for this process's own queries when it serves no one. */
  directPool(pglite: PGlite): Promise<pg.Pool>;
  /** Names this process in the "busy" answer, e.g. "recap demo". */
  command: string;
  /** Lets a serving holder answer `recap backup` (see dumpEmbeddedFolder). */
  dumpPglite?: (pglite: PGlite) => Promise<string>;
}

/** Socket paths longer than this do not fit `sockaddr_un` (108 bytes on Linux, 104 on macOS). */
const MAX_SOCKET_PATH = 100;
const CLAIM_STALE_MS = 10_000;
const CLAIM_GIVE_UP_MS = 30_000;

/**
 * Opens the folder as holder, client or exclusive user. Never opens PGlite twice on one folder: taking
 * the socket is serialised by a claim directory held for milliseconds. Throws DatabaseHeldError when
 * a short command holds it.
 */
export async function openEmbeddedFolder(options: OpenFolderOptions): Promise<EmbeddedFolder> {
  mkdirSync(options.dataDir, { recursive: true });
  const deadline = Date.now() + CLAIM_GIVE_UP_MS;
  for (;;) {
    const taken = await claimOrFindHolder(options.dataDir, deadline);
    if (taken.kind === 'claimed') return openAsHolder(options, taken.server, taken.socketPath);
    const client = await connectThrough(taken.socketPath);
    if (client) return { role: 'client', pool: client, close: () => endPool(client) };
    // The holder stopped (or is stopping) between our probe and our connection: look again.
    if (Date.now() > deadline)
      throw new DatabaseHeldError(`cannot reach the embedded database in ${options.dataDir}`);
    await sleep(50);
  }
}

/** Where this data folder's socket is: in the folder when the path fits, else in the temp folder, recorded in the folder. */
export function socketPathFor(dataDir: string): string {
  const inFolder = path.join(dataDir, 'recap.sock');
  if (Buffer.byteLength(inFolder) <= MAX_SOCKET_PATH) return inFolder;
  const hash = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
  return path.join(os.tmpdir(), `recap-${hash}.sock`);
}

/** The socket a holder announced: the recorded path when it had to use the temp folder. */
function announcedSocketPath(dataDir: string): string {
  try {
    const recorded = readFileSync(recordFile(dataDir), 'utf8').trim();
    if (recorded) return recorded;
  } catch {}
  return socketPathFor(dataDir);
}

const recordFile = (dataDir: string) => path.join(dataDir, 'recap.sock.path');
const claimDir = (dataDir: string) => path.join(dataDir, 'recap.sock.claim');

type Claim =
  | { kind: 'claimed'; server: net.Server; socketPath: string }
  | { kind: 'held'; socketPath: string };

async function claimOrFindHolder(dataDir: string, deadline: number): Promise<Claim> {
  for (;;) {
    const announced = announcedSocketPath(dataDir);
    if (await answers(announced)) return { kind: 'held', socketPath: announced };
    const release = tryClaimDir(dataDir);
    if (!release) {
      if (Date.now() > deadline)
        throw new DatabaseHeldError(`cannot lock the embedded database in ${dataDir}`);
      await sleep(25);
      continue;
    }
    try {
      // Inside the claim nobody else binds or unlinks: what refuses now is stale.
      const current = announcedSocketPath(dataDir);
      if (await answers(current)) return { kind: 'held', socketPath: current };
      const mine = socketPathFor(dataDir);
      removeFile(current);
      removeFile(mine);
      const server = await listen(mine);
      if (mine === path.join(dataDir, 'recap.sock')) removeFile(recordFile(dataDir));
      else writeFileSync(recordFile(dataDir), `${mine}\n`);
      // The pid lock file of earlier versions means nothing now.
      removeFile(path.join(dataDir, 'recap.lock'));
      return { kind: 'claimed', server, socketPath: mine };
    } finally {
      release();
    }
  }
}

/** A directory as a short mutex around taking or giving up the socket; one left by a process killed within those milliseconds expires. */
function tryClaimDir(dataDir: string): (() => void) | undefined {
  const dir = claimDir(dataDir);
  try {
    mkdirSync(dir);
    return () => rmSync(dir, { recursive: true, force: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    try {
      if (Date.now() - statSync(dir).mtimeMs > CLAIM_STALE_MS) rmSync(dir, { recursive: true, force: true });
    } catch {}
    return undefined;
  }
}

/** True when a live process accepts connections on the socket; false when the file is missing or stale. */
function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED' || error.code === 'ENOTSOCK')
        resolve(false);
      else reject(new Error(`cannot check the embedded database's socket ${socketPath}: ${error.message}`));
    });
  });
}

function listen(socketPath: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function removeFile(file: string): void {
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Kysely's destroy() may have ended the pool already. */
async function endPool(pool: pg.Pool): Promise<void> {
  if (!pool.ending && !pool.ended) await pool.end().catch(() => {});
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A pool whose one connection goes to the holder's socket. */
function poolThrough(socketPath: string, connectionTimeoutMillis: number): pg.Pool {
  const pool = new pg.Pool({
    max: 1,
    // Dummies: the connection goes to the socket below, and the holder accepts anyone who can reach it.
    host: 'localhost',
    port: 5432,
    user: 'postgres',
    database: 'postgres',
    password: 'postgres',
    ssl: false,
    stream: () => {
      const socket = new net.Socket();
      const connect = socket.connect.bind(socket);
      socket.connect = (() => connect(socketPath)) as typeof socket.connect;
      return socket;
    },
    connectionTimeoutMillis,
    idleTimeoutMillis: 0,
  } as pg.PoolConfig);
  // An idle connection whose holder stopped must not crash this process; the next query reports it.
  pool.on('error', () => {});
  return pool;
}

/** Connects through a live holder; undefined when it stopped meanwhile; DatabaseHeldError when it is busy. */
async function connectThrough(socketPath: string): Promise<pg.Pool | undefined> {
  // A holder still opening its folder answers once PGlite is up (seconds on a busy machine); a holder
  // that answers nothing for two minutes is stopped or hung.
  const pool = poolThrough(socketPath, 120_000);
  try {
    const client = await pool.connect();
    client.release();
    return pool;
  } catch (error) {
    await pool.end().catch(() => {});
    const code = (error as { code?: string }).code;
    if (code === '55006') throw new DatabaseHeldError((error as Error).message);
    // 57P03: the holder is stopping; once it has closed PGlite its socket refuses and the folder is free.
    if (code === '57P03') return undefined;
    if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'ECONNRESET') return undefined;
    if (/Connection terminated/i.test((error as Error).message)) return undefined;
    throw error;
  }
}

async function openAsHolder(
  options: OpenFolderOptions,
  server: net.Server,
  socketPath: string,
): Promise<EmbeddedFolder> {
  const pglite = options.openPglite();
  // Nobody waits on a failed open but the host and the caller: keep Node from reporting it twice.
  pglite.catch(() => {});
  const host = hostEmbedded(
    server,
    options.share
      ? { mode: 'serve', pglite, ...(options.dumpPglite ? { dump: options.dumpPglite } : {}) }
      : {
          mode: 'busy',
          message: busyMessage(options.command),
        },
  );
  const giveUp = async () => {
    await host.drain();
    await pglite.then((db) => db.close()).catch(() => {});
    await closeServer(options.dataDir, server, socketPath);
  };
  let pool: pg.Pool;
  try {
    // The holder's own queries take turns with its clients': its connection goes through its own socket.
    pool = options.share ? poolThrough(socketPath, 0) : await options.directPool(await pglite);
    if (options.share) (await pool.connect()).release();
  } catch (error) {
    await giveUp();
    throw error;
  }
  return {
    role: options.share ? 'holder' : 'exclusive',
    pool,
    close: async () => {
      await endPool(pool);
      await giveUp();
    },
  };
}

/** Stops listening (Node removes the socket file) inside the claim, so a newcomer never takes the folder before PGlite is closed. */
async function closeServer(dataDir: string, server: net.Server, socketPath: string): Promise<void> {
  const deadline = Date.now() + CLAIM_GIVE_UP_MS;
  let release = tryClaimDir(dataDir);
  while (!release && Date.now() < deadline) {
    await sleep(25);
    release = tryClaimDir(dataDir);
  }
  try {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (announcedSocketPath(dataDir) === socketPath) removeFile(recordFile(dataDir));
  } finally {
    release?.();
  }
}

export interface DumpFolderOptions {
  dataDir: string;
  /** Names this process in the "busy" answer others get while it dumps a folder nobody held. */
  command: string;
  openPglite(): Promise<PGlite>;
  dumpPglite(pglite: PGlite): Promise<string>;
}

/**
 * A plain SQL dump of the embedded database, written by whoever holds it: through the serving holder
 * (one turn of its own, so the dump is consistent and nobody's transaction runs beside it), or, with
 * no holder, by opening the folder alone for the time of the dump. Throws DatabaseHeldError when a
 * short command holds it, and an Error when the folder holds no database.
 */
export async function dumpEmbeddedFolder(options: DumpFolderOptions): Promise<string> {
  const deadline = Date.now() + CLAIM_GIVE_UP_MS;
  for (;;) {
    const taken = await claimOrFindHolder(options.dataDir, deadline);
    if (taken.kind === 'claimed') {
      const pglite = options.openPglite();
      pglite.catch(() => {});
      const host = hostEmbedded(taken.server, { mode: 'busy', message: busyMessage(options.command) });
      try {
        return await options.dumpPglite(await pglite);
      } finally {
        await host.drain();
        await pglite.then((db) => db.close()).catch(() => {});
        await closeServer(options.dataDir, taken.server, taken.socketPath);
      }
    }
    const dumped = await dumpThrough(taken.socketPath);
    if (dumped !== undefined) return dumped;
    if (Date.now() > deadline)
      throw new DatabaseHeldError(`cannot reach the embedded database in ${options.dataDir}`);
    await sleep(50);
  }
}

function busyMessage(command: string): string {
  return `in use by \`${command}\` (pid ${process.pid}), which does not share it: run this again when it has finished (a running \`recap serve\`, \`recap schedule\` or \`npm start\` shares it)`;
}

/** Asks a serving holder for a dump; undefined when it stopped meanwhile; DatabaseHeldError when it is busy. */
function dumpThrough(socketPath: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    const chunks: Buffer[] = [];
    const request = Buffer.alloc(8);
    request.writeInt32BE(8, 0);
    request.writeInt32BE(DUMP_REQUEST, 4);
    socket.once('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED' || error.code === 'ECONNRESET')
        resolve(undefined);
      else reject(error);
    });
    socket.once('close', () => {
      const answer = Buffer.concat(chunks);
      if (answer[0] === 0x53 /* 'S' */) return resolve(answer.subarray(1).toString('utf8'));
      const { code, message } = errorFields(answer);
      if (code === '55006') return reject(new DatabaseHeldError(message));
      if (code === '57P03' || answer.length === 0) return resolve(undefined);
      reject(new Error(message || 'the process holding the embedded database sent no backup'));
    });
  });
}

/** The code and message of a PostgreSQL ErrorResponse ('E', length, fields of a type byte and text). */
function errorFields(message: Buffer): { code?: string; message?: string } {
  if (message[0] !== 0x45) return {};
  const fields: Record<string, string> = {};
  for (const field of message.subarray(5).toString('utf8').split('\0')) {
    if (field.length > 1) fields[field[0] as string] = field.slice(1);
  }
  return { code: fields.C, message: fields.M };
}
