import { createReadStream, readFileSync } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { RawTrackingEvent } from './classify-event.ts';

/** An open or click with the id it was answered under: stored at most once, however often it is written. */
export interface IdentifiedEvent extends RawTrackingEvent {
  eventId: string;
}

export interface EventSpoolOptions {
  /** The spool's folder (RECAP_DATA_DIR/tracking-spool), created on the first event spooled. */
  dir: string;
  /** Bound on this instance's spool files together (TRACKING_SPOOL_MAX_BYTES). */
  maxBytes: number;
  /** This process's name in file names; defaults to host, pid and the process's start time. */
  instance?: string;
  /** Whether the process named by a spool file still runs; defaults to a check of pid and start time. */
  isAlive?: (instance: string) => boolean;
}

export interface ReplayResult {
  /** Events handed to `write` (some may have been stored already: the write must ignore those). */
  replayed: number;
  /** Lines that were not an event (a torn last line of a process killed mid-append: never answered). */
  unreadable: number;
  /** Spool files of dead instances taken over in this round. */
  claimed: string[];
  /** The error that stopped the round (the database still away), if one did. */
  error?: unknown;
}

export interface EventSpool {
  /**
   * Appends the events and fsyncs them: resolves true once they are on disk, false when they would
   * exceed the bound (nothing written). Rejects when the file cannot be written.
   */
  append(events: readonly IdentifiedEvent[]): Promise<boolean>;
  /**
   * Hands every spooled event, in batches, to `write`, oldest first, and deletes each file once all of
   * it is written: this instance's, and those left by instances no longer running (claimed by renaming
   * them to this instance's name, so two live instances never replay one file). Stops at the first
   * failed write and keeps the rest for the next round; never rejects.
   */
  replay(write: (events: IdentifiedEvent[]) => Promise<void>, batchSize?: number): Promise<ReplayResult>;
  /** Bytes this instance's spool files hold. */
  readonly bytes: number;
  /** Whether events wait in this instance's files (or may wait in a dead instance's). */
  readonly pending: boolean;
  readonly instance: string;
  close(): Promise<void>;
}

const SPOOL_FILE = /^(.+)-(\d+)-(\d+)(?:\.\d+)?\.ndjson$/;

/**
 * A bounded, append-only local spool of tracking events the database could not take: one NDJSON file
 * per process (`<host>-<pid>-<start>.ndjson`), fsynced before an append resolves. Replay moves the
 * file aside (`…​.<n>.ndjson`) so appends continue into a fresh one while it is read.
 */
// Long: the spool's state (open file, byte count, claimed files) is shared by its closures.
export function openEventSpool(options: EventSpoolOptions): EventSpool {
  const instance = options.instance ?? currentInstance();
  const isAlive = options.isAlive ?? instanceIsAlive;
  const activePath = path.join(options.dir, `${instance}.ndjson`);
  let handle: FileHandle | undefined;
  let bytes = 0;
  let segment = 0;
  /** Files moved aside for replay (own or claimed), oldest first, with their sizes. */
  const waiting: Array<{ file: string; size: number }> = [];
  let activeBytes = 0;
  let mayHoldDeadFiles = true;
  let lastDeadScan = 0;
  // Appends and the rotation before a replay take turns.
  let turn: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(work: () => Promise<T>): Promise<T> => {
    const next = turn.then(work, work);
    turn = next.catch(() => {});
    return next;
  };

  async function openActive(): Promise<FileHandle> {
    if (handle) return handle;
    await mkdir(options.dir, { recursive: true });
    handle = await open(activePath, 'a');
    // A new file's name must survive a crash as well as its contents.
    await syncDirectory(options.dir);
    return handle;
  }

  async function rotate(): Promise<void> {
    // While older files wait (the database still away), appends keep going to the one active file.
    if (!handle || activeBytes === 0 || waiting.length > 0) return;
    await handle.close();
    handle = undefined;
    const file = path.join(options.dir, `${instance}.${++segment}.ndjson`);
    await rename(activePath, file);
    waiting.push({ file, size: activeBytes });
    activeBytes = 0;
  }

  async function claimDeadFiles(): Promise<string[]> {
    lastDeadScan = Date.now();
    let names: string[];
    try {
      names = await readdir(options.dir);
    } catch {
      mayHoldDeadFiles = false;
      return [];
    }
    const claimed: string[] = [];
    for (const name of names.sort()) {
      const match = SPOOL_FILE.exec(name);
      if (!match) continue;
      const owner = `${match[1]}-${match[2]}-${match[3]}`;
      if (owner === instance || isAlive(owner)) continue;
      const file = path.join(options.dir, `${instance}.${++segment}.ndjson`);
      try {
        // Atomic: of two live instances claiming one dead file, one rename succeeds.
        await rename(path.join(options.dir, name), file);
      } catch {
        continue;
      }
      const size = (await stat(file)).size;
      waiting.push({ file, size });
      bytes += size;
      claimed.push(name);
    }
    mayHoldDeadFiles = false;
    return claimed;
  }

  async function replayFile(
    file: string,
    write: (events: IdentifiedEvent[]) => Promise<void>,
    batchSize: number,
    result: ReplayResult,
  ): Promise<void> {
    const lines = createInterface({
      input: createReadStream(file, 'utf8'),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    let batch: IdentifiedEvent[] = [];
    try {
      for await (const line of lines) {
        if (line === '') continue;
        const event = parseLine(line);
        if (!event) {
          result.unreadable += 1;
          continue;
        }
        batch.push(event);
        if (batch.length >= batchSize) {
          await write(batch);
          result.replayed += batch.length;
          batch = [];
        }
      }
      if (batch.length > 0) {
        await write(batch);
        result.replayed += batch.length;
      }
    } finally {
      lines.close();
    }
  }

  return {
    instance,
    get bytes() {
      return bytes;
    },
    get pending() {
      return bytes > 0 || mayHoldDeadFiles || Date.now() - lastDeadScan > 60_000;
    },
    append(events) {
      return inTurn(async () => {
        if (events.length === 0) return true;
        const text = Buffer.from(`${events.map(eventLine).join('\n')}\n`, 'utf8');
        if (bytes + text.length > options.maxBytes) return false;
        const file = await openActive();
        await file.write(text);
        await file.datasync();
        bytes += text.length;
        activeBytes += text.length;
        return true;
      });
    },
    async replay(write, batchSize = 1_000) {
      const result: ReplayResult = { replayed: 0, unreadable: 0, claimed: [] };
      try {
        await inTurn(async () => {
          await rotate();
          if (mayHoldDeadFiles || Date.now() - lastDeadScan > 60_000) result.claimed = await claimDeadFiles();
        });
        while (waiting.length > 0) {
          const next = waiting[0] as { file: string; size: number };
          await replayFile(next.file, write, batchSize, result);
          await unlink(next.file);
          waiting.shift();
          bytes -= next.size;
        }
      } catch (error) {
        result.error = error;
      }
      return result;
    },
    close() {
      return inTurn(async () => {
        await handle?.close();
        handle = undefined;
      });
    },
  };
}

function eventLine(event: IdentifiedEvent): string {
  return JSON.stringify({ ...event, occurredAt: event.occurredAt.toISOString() });
}

function parseLine(line: string): IdentifiedEvent | null {
  try {
    const value = JSON.parse(line) as IdentifiedEvent & { occurredAt: string };
    const occurredAt = new Date(value.occurredAt);
    if (typeof value.eventId !== 'string' || Number.isNaN(occurredAt.getTime())) return null;
    return { ...value, occurredAt };
  } catch {
    return null;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/** This process as spool files name it: host, pid and start time (a pid alone may be reused). */
export function currentInstance(): string {
  return `${hostname().replace(/[^A-Za-z0-9_.]/g, '_')}-${process.pid}-${processStart(process.pid) ?? Date.now()}`;
}

/**
 * Whether the process a spool file is named after still runs on this host. A file of another host is
 * treated as alive (never taken over): only a process on this host can tell.
 */
function instanceIsAlive(instance: string): boolean {
  const match = /^(.+)-(\d+)-(\d+)$/.exec(instance);
  if (!match) return true;
  if (match[1] !== hostname().replace(/[^A-Za-z0-9_.]/g, '_')) return true;
  const pid = Number(match[2]);
  const start = processStart(pid);
  if (start !== null) return start === match[3];
  if (process.platform === 'linux') return false;
  // Without /proc only the pid can be checked.
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A process's start time in clock ticks since boot (Linux /proc), or null where it cannot be read. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses); start time is field 22.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie (killed, not yet reaped) runs no more.
    if (fields[0] === 'Z' || fields[0] === 'X') return null;
    return fields[19] ?? null;
  } catch {
    return null;
  }
}
