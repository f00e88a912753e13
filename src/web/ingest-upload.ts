import { randomBytes } from 'node:crypto';
import { mkdir, open, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { InputTooLargeError } from '../stories/story-stream.ts';

/** No chunk of the body arrived for the idle time. */
export class BodyStalledError extends Error {
  override name = 'BodyStalledError';
}

/** The body arrives slower, on average, than the minimum rate once the grace period has passed. */
export class SlowBodyError extends Error {
  override name = 'SlowBodyError';
}

/** The body is compressed (gzip's magic bytes under a JSON type): not read. */
export class CompressedBodyError extends Error {
  override name = 'CompressedBodyError';
}

/** How an upload must arrive. */
export interface UploadRules {
  /** Folder of the spool files (RECAP_DATA_DIR/ingest-spool), created on first use. */
  spoolDir: string;
  /** Past this many bytes: InputTooLargeError, the rest is not read. */
  maxBytes: number;
  /** No chunk for this long: BodyStalledError. */
  idleMs: number;
  /** Once graceMs have passed, an average below this: SlowBodyError. */
  minBytesPerSecond: number;
  graceMs: number;
}

/** A body received whole onto disk: read it back as often as needed, then discard it. */
export interface SpooledBody {
  bytes: number;
  read(): AsyncIterable<Buffer>;
  /** Closes the file (already unlinked: nothing is left on disk). Idempotent, never throws. */
  discard(): Promise<void>;
}

/**
 * Receives an upload's body completely into a spool file before anything else happens, so a slow
 * client holds a file descriptor and a socket, never a database connection or a transaction. The file
 * is unlinked as soon as it is opened: a crash leaves nothing behind. Fails with InputTooLargeError,
 * BodyStalledError, SlowBodyError, CompressedBodyError or the stream's own error (connection lost); on
 * failure the file is already discarded and the rest of the body is left unread (the caller answers
 * with `Connection: close`). `onBytes` follows the bytes received so far.
 */
export async function spoolBody(
  body: Readable,
  rules: UploadRules,
  onBytes: (bytes: number) => void = () => {},
): Promise<SpooledBody> {
  await mkdir(rules.spoolDir, { recursive: true });
  const file = path.join(rules.spoolDir, `upload-${process.pid}-${randomBytes(8).toString('hex')}`);
  const handle = await open(file, 'w+', 0o600);
  await unlink(file);
  let discarded = false;
  const discard = async () => {
    if (discarded) return;
    discarded = true;
    await handle.close().catch(() => {});
  };
  let bytes = 0;
  let head = Buffer.alloc(0);
  try {
    for await (const chunk of guardedChunks(body, rules)) {
      if (head.length < 2) {
        head = Buffer.concat([head, chunk.subarray(0, 2 - head.length)]);
        // A compressed body sent as JSON is refused with one line rather than reported as garbage records.
        if (head[0] === 0x1f && head[1] === 0x8b) throw new CompressedBodyError(gzipMessage);
      }
      bytes += chunk.length;
      if (bytes > rules.maxBytes) throw new InputTooLargeError(rules.maxBytes);
      await handle.write(chunk, 0, chunk.length, bytes - chunk.length);
      onBytes(bytes);
    }
  } catch (error) {
    await discard();
    throw error;
  }
  return {
    bytes,
    read: () => handle.createReadStream({ start: 0, autoClose: false, highWaterMark: 64 * 1024 }),
    discard,
  };
}

const gzipMessage = 'the body is gzip-compressed: send it uncompressed (Content-Encoding is not accepted)';

/**
 * The body's chunks, ending in an error when no chunk arrives for `idleMs` or when, once `graceMs` have
 * passed, the average rate since the start is below `minBytesPerSecond`: an upload cannot be kept open
 * by a byte now and then. The stream is not destroyed (that would drop the socket before the answer);
 * the caller stops reading and answers.
 */
async function* guardedChunks(body: Readable, rules: UploadRules): AsyncGenerator<Buffer> {
  const started = performance.now();
  let last = started;
  let bytes = 0;
  let stop: ((error: Error) => void) | undefined;
  let refusal: Error | undefined;
  const verdict = (): Error | undefined => {
    const at = performance.now();
    if (at - last >= rules.idleMs) return new BodyStalledError('the body stopped arriving');
    const elapsed = at - started;
    if (elapsed >= rules.graceMs && bytes < (rules.minBytesPerSecond * elapsed) / 1000)
      return new SlowBodyError(
        `the body arrived slower than ${rules.minBytesPerSecond} bytes a second (${Math.round(
          (bytes * 1000) / elapsed,
        )} on average): send it in one go`,
      );
    return undefined;
  };
  const tick = Math.max(50, Math.min(1000, rules.graceMs / 4, rules.idleMs / 4));
  const timer = setInterval(() => {
    refusal ??= verdict();
    if (refusal) stop?.(refusal);
  }, tick);
  const chunks = body[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await new Promise<IteratorResult<Buffer>>((resolve, reject) => {
        stop = reject;
        if (refusal) reject(refusal);
        chunks.next().then(resolve, reject);
      });
      if (next.done) return;
      const chunk = next.value;
      bytes += chunk.length;
      last = performance.now();
      yield chunk;
    }
  } finally {
    clearInterval(timer);
    stop = undefined;
  }
}

/**
 * Uploads in progress per key (the token): `take` gives a release function, or null when `limit` are
 * in progress already. Release once the upload is answered; releasing twice is harmless.
 */
export function createUploadSlots(limit: number) {
  const inProgress = new Map<string, number>();
  return {
    take(key: string): (() => void) | null {
      const count = inProgress.get(key) ?? 0;
      if (count >= limit) return null;
      inProgress.set(key, count + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (inProgress.get(key) ?? 1) - 1;
        if (left > 0) inProgress.set(key, left);
        else inProgress.delete(key);
      };
    },
  };
}
