import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import type { IngestConfig } from '../config.ts';
import type { Db, Tx } from '../db/database.ts';
import {
  loadValidators,
  problemSummary,
  recordIngestRun,
  recordSourcePull,
  type SourceValidators,
} from './ingest.repository.ts';
import { formatProblem } from './parse-stories.ts';
import { formatCounts, type ImportOutcome, ImportRefusedError, importStoryRecords } from './story-import.ts';
import { InputTooLargeError, readStoryRecords } from './story-stream.ts';

export interface PullSettings {
  /** Authorization header value sent to the source (RECAP_STORIES_AUTH). */
  auth?: string | undefined;
  /** No answer, or no data, for this long aborts an attempt. */
  timeoutMs: number;
  /** Attempts after the first on a network error, a timeout, a 5xx or a 429. */
  retries: number;
  maxBytes: number;
  /** First pause between attempts, doubled each time (default 1 s). */
  backoffMs?: number;
  /** Send If-None-Match / If-Modified-Since and remember the answer's validators (default true). */
  conditional?: boolean;
  /** Import the valid records and report the rest (default true: nobody is there to fix a pulled feed). */
  skipInvalid?: boolean;
  /** Wait for another process pulling the same source instead of skipping it (default false). */
  waitForLock?: boolean;
  now?: () => Date;
}

export type PullStatus = 'imported' | 'unchanged' | 'refused' | 'failed' | 'skipped';

export interface PullResult {
  url: string;
  status: PullStatus;
  /** One line: counts, "unchanged", or why it failed. */
  summary: string;
  outcome: ImportOutcome | null;
  attempts: number;
  bytes: number;
}

/** An attempt that failed; `retry` says whether another attempt may help. */
class PullError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * Pulls one source (a JSON array or NDJSON of stories over http(s)) into the database: a conditional
 * request with the validators remembered from the last pull, the body read as a stream and written in
 * batches inside one transaction, an advisory lock so two processes never pull the same source at once.
 * Retries network errors, timeouts, 5xx and 429 with backoff; a failure is reported through
 * reportSourceFailure. Never throws for the source's faults; throws only when the database fails.
 */
export async function pullSource(db: Db, url: string, settings: PullSettings): Promise<PullResult> {
  const now = settings.now ?? (() => new Date());
  const startedAt = now();
  const backoff = settings.backoffMs ?? 1000;
  let attempts = 0;
  let bytes = 0;
  for (;;) {
    attempts += 1;
    try {
      const result = await db.transaction().execute((trx) =>
        pullOnce(trx, url, settings, now, (n) => {
          bytes = n;
        }),
      );
      const pulled = { ...result, attempts, bytes };
      if (pulled.status !== 'skipped') await recordRun(db, pulled, startedAt, now());
      return pulled;
    } catch (error) {
      if (error instanceof ImportRefusedError) {
        const outcome = error.outcome;
        const detail = `nothing imported, ${outcome.unreadable ? 'the feed cannot be read' : `${outcome.invalid} of ${outcome.total} records are invalid`}`;
        await recordSourcePull(db, {
          url,
          at: now(),
          status: 'refused',
          detail: problemSummary(outcome) ?? detail,
        });
        const result: PullResult = { url, status: 'refused', summary: detail, outcome, attempts, bytes };
        await recordRun(db, result, startedAt, now());
        return result;
      }
      const failure = asPullError(error);
      if (failure?.retry && attempts <= settings.retries) {
        await sleep(Math.max(failure.retryAfterMs ?? 0, backoff * 2 ** (attempts - 1)));
        continue;
      }
      if (!failure) throw error;
      const reason = `${failure.message}${attempts > 1 ? ` (after ${attempts} attempts)` : ''}`;
      const result: PullResult = { url, status: 'failed', summary: reason, outcome: null, attempts, bytes };
      await reportSourceFailure(db, { url, reason, at: now() });
      await recordRun(db, result, startedAt, now());
      return result;
    }
  }
}

/**
 * The one place a failing source is reported: stored as the source's last pull (the editor shows it)
 * and logged by the caller. An alerting hook belongs here. Never throws.
 */
export async function reportSourceFailure(
  db: Db,
  failure: { url: string; reason: string; at: Date },
): Promise<void> {
  await recordSourcePull(db, {
    url: failure.url,
    at: failure.at,
    status: 'failed',
    detail: failure.reason,
  }).catch(() => {});
}

async function recordRun(db: Db, result: PullResult, startedAt: Date, finishedAt: Date): Promise<void> {
  const outcome = result.outcome;
  await recordIngestRun(db, {
    kind: 'pull',
    source: result.url,
    startedAt,
    finishedAt,
    status: result.status,
    imported: outcome?.stored ? outcome.imported : 0,
    updated: outcome?.stored ? outcome.updated : 0,
    unchanged: outcome?.stored ? outcome.unchanged : 0,
    retracted: outcome?.stored ? outcome.retracted : 0,
    invalid: outcome?.invalid ?? 0,
    bytes: result.bytes,
    detail: outcome ? (problemSummary(outcome) ?? result.summary) : result.summary,
  });
}

// Long: one pull of a feed: conditional request, retries with backoff, streaming import and its record, each step needing the previous one's result.
async function pullOnce(
  trx: Tx,
  url: string,
  settings: PullSettings,
  now: () => Date,
  onBytes: (bytes: number) => void,
): Promise<Omit<PullResult, 'attempts' | 'bytes'>> {
  const key = sql`hashtextextended(${`recap-ingest ${url}`}, 0)`;
  if (settings.waitForLock) {
    await sql`SELECT pg_advisory_xact_lock(${key})`.execute(trx);
  } else {
    const lock = await sql<{ locked: boolean }>`SELECT pg_try_advisory_xact_lock(${key}) AS locked`.execute(
      trx,
    );
    if (!lock.rows[0]?.locked) {
      return { url, status: 'skipped', summary: 'skipped: another process is pulling it', outcome: null };
    }
  }
  const conditional = settings.conditional ?? true;
  const validators = conditional ? await loadValidators(trx, url) : { etag: null, lastModified: null };
  const headers: Record<string, string> = {
    accept: 'application/x-ndjson, application/json;q=0.9, */*;q=0.1',
  };
  if (settings.auth) headers.authorization = settings.auth;
  if (validators.etag) headers['if-none-match'] = validators.etag;
  if (validators.lastModified) headers['if-modified-since'] = validators.lastModified;

  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), settings.timeoutMs);
  };
  const timedOut = () =>
    new PullError(`no answer within ${Math.round(settings.timeoutMs / 100) / 10} s`, true);
  arm();
  try {
    let response: Response;
    try {
      response = await fetch(url, { headers, signal: controller.signal, redirect: 'follow' });
    } catch (error) {
      if (controller.signal.aborted) throw timedOut();
      throw new PullError(`cannot reach the source: ${causeOf(error)}`, true);
    }
    if (response.status === 304) {
      await response.body?.cancel().catch(() => {});
      await recordSourcePull(trx, { url, at: now(), status: 'unchanged', detail: 'not modified (304)' });
      return { url, status: 'unchanged', summary: 'unchanged', outcome: null };
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      const retry = response.status >= 500 || response.status === 429;
      const after = Number(response.headers.get('retry-after'));
      throw new PullError(
        `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`,
        retry,
        Number.isFinite(after) && after > 0 ? Math.min(after, 60) * 1000 : undefined,
      );
    }
    const length = Number(response.headers.get('content-length'));
    if (Number.isFinite(length) && length > settings.maxBytes) {
      await response.body?.cancel().catch(() => {});
      throw new PullError(`larger than the limit of ${settings.maxBytes} bytes (INGEST_MAX_BYTES)`, false);
    }
    const body = response.body;
    if (!body) throw new PullError('empty answer', true);
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        arm();
        yield chunk;
      }
    }
    const type = response.headers.get('content-type') ?? '';
    let outcome: ImportOutcome;
    try {
      outcome = await importStoryRecords(
        trx,
        readStoryRecords(chunks(), {
          format: /ndjson|jsonl|json-seq/i.test(type) ? 'ndjson' : 'auto',
          maxBytes: settings.maxBytes,
          onBytes,
        }),
        { skipInvalid: settings.skipInvalid ?? true, now: now() },
      );
    } catch (error) {
      if (error instanceof ImportRefusedError) throw error;
      if (error instanceof InputTooLargeError)
        throw new PullError(`larger than the limit of ${settings.maxBytes} bytes (INGEST_MAX_BYTES)`, false);
      if (controller.signal.aborted) throw timedOut();
      if (isDatabaseError(error)) throw error;
      throw new PullError(`the answer broke off: ${causeOf(error)}`, true);
    }
    const fresh: SourceValidators | undefined = conditional
      ? { etag: response.headers.get('etag'), lastModified: response.headers.get('last-modified') }
      : undefined;
    const summary = `${formatCounts(outcome)}${outcome.invalid > 0 ? `; ${outcome.invalid} invalid records skipped` : ''}`;
    await recordSourcePull(trx, {
      url,
      at: now(),
      status: 'imported',
      detail: problemSummary(outcome) ?? summary,
      counts: outcome,
      ...(fresh ? { validators: fresh } : {}),
    });
    return { url, status: 'imported', summary, outcome };
  } finally {
    clearTimeout(timer);
  }
}

function asPullError(error: unknown): PullError | null {
  if (error instanceof PullError) return error;
  // A deadlock or serialization failure with a concurrent import: another attempt will pass.
  const code = (error as { code?: unknown } | null)?.code;
  if (code === '40P01' || code === '40001') return new PullError('a concurrent import got in the way', true);
  return null;
}

function isDatabaseError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/** A pull's line as `recap ingest` prints it. */
export function formatPull(result: PullResult): string {
  const lines = [`${result.url}: ${result.summary}`];
  if (result.outcome && result.outcome.problemCount > 0) {
    lines.push(...result.outcome.problems.map((problem) => `  ${formatProblem(problem)}`));
    const more = result.outcome.problemCount - result.outcome.problems.length;
    if (more > 0) lines.push(`  … and ${more} more`);
  }
  return lines.join('\n');
}

/** Pulls every configured source, one after another; one failing never stops the others. */
export async function pullAll(
  db: Db,
  urls: readonly string[],
  settings: PullSettings,
): Promise<PullResult[]> {
  const results: PullResult[] = [];
  for (const url of urls) results.push(await pullSource(db, url, settings));
  return results;
}

/** The pull settings of the configuration (RECAP_STORIES_AUTH, INGEST_*). */
export function pullSettingsFrom(ingest: IngestConfig): PullSettings {
  return {
    auth: ingest.auth,
    timeoutMs: ingest.timeoutMs,
    retries: ingest.retries,
    maxBytes: ingest.maxBytes,
  };
}
