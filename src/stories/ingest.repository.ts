import { sql } from 'kysely';
import type { Db, Tx } from '../db/database.ts';
import { formatProblem } from './parse-stories.ts';
import type { ImportOutcome } from './story-import.ts';

/** Runs kept for the editor's view; older ones are deleted as new ones arrive. */
const RUNS_KEPT = 500;

export interface IngestRun {
  kind: 'api' | 'pull' | 'file';
  source: string;
  startedAt: Date;
  finishedAt: Date;
  status: string;
  imported: number;
  updated: number;
  unchanged: number;
  retracted: number;
  invalid: number;
  bytes: number;
  detail: string | null;
}

/** The first few problems of an outcome, one line each, for a run's detail. */
export function problemSummary(outcome: ImportOutcome, limit = 5): string | null {
  if (outcome.problemCount === 0) return null;
  const lines = outcome.problems.slice(0, limit).map(formatProblem);
  const more = outcome.problemCount - lines.length;
  return `${lines.join('\n')}${more > 0 ? `\n… and ${more} more` : ''}`;
}

/** The run record of an import's outcome: counts, status and the first problems. */
export function runOfOutcome(
  outcome: ImportOutcome,
  run: Pick<IngestRun, 'kind' | 'source' | 'startedAt' | 'finishedAt' | 'bytes'>,
): IngestRun {
  return {
    ...run,
    status: outcome.stored ? 'imported' : 'refused',
    imported: outcome.imported,
    updated: outcome.updated,
    unchanged: outcome.unchanged,
    retracted: outcome.retracted,
    invalid: outcome.invalid,
    detail: problemSummary(outcome),
  };
}

/** Records one import (never throws for a full table: old rows are pruned). */
export async function recordIngestRun(db: Db | Tx, run: IngestRun): Promise<void> {
  const row = await db
    .insertInto('ingest_runs')
    .values({
      kind: run.kind,
      source: run.source,
      started_at: run.startedAt,
      finished_at: run.finishedAt,
      status: run.status,
      imported: run.imported,
      updated: run.updated,
      unchanged: run.unchanged,
      retracted: run.retracted,
      invalid: run.invalid,
      bytes: run.bytes,
      detail: run.detail,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .deleteFrom('ingest_runs')
    .where('id', '<=', sql<string>`${row.id}::bigint - ${RUNS_KEPT}`)
    .execute();
}

/** The latest runs of a kind, newest first. */
export async function listIngestRuns(db: Db | Tx, kind: IngestRun['kind'], limit = 20): Promise<IngestRun[]> {
  const rows = await db
    .selectFrom('ingest_runs')
    .selectAll()
    .where('kind', '=', kind)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    kind: row.kind,
    source: row.source,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    status: row.status,
    imported: row.imported,
    updated: row.updated,
    unchanged: row.unchanged,
    retracted: row.retracted,
    invalid: row.invalid,
    bytes: Number(row.bytes),
    detail: row.detail,
  }));
}

export interface SourceValidators {
  etag: string | null;
  lastModified: string | null;
}

export async function loadValidators(db: Db | Tx, url: string): Promise<SourceValidators> {
  const row = await db
    .selectFrom('ingest_sources')
    .select(['etag', 'last_modified'])
    .where('url', '=', url)
    .executeTakeFirst();
  return { etag: row?.etag ?? null, lastModified: row?.last_modified ?? null };
}

export interface SourcePull {
  url: string;
  at: Date;
  status: 'imported' | 'unchanged' | 'refused' | 'failed' | 'skipped';
  detail: string | null;
  counts?: Pick<ImportOutcome, 'imported' | 'updated' | 'unchanged' | 'retracted' | 'invalid'>;
  /** New validators to remember (only after a stored import or a 304). */
  validators?: SourceValidators;
}

/** Stores the outcome of a pull of one source (and its validators when given). */
export async function recordSourcePull(db: Db | Tx, pull: SourcePull): Promise<void> {
  const ok = pull.status === 'imported' || pull.status === 'unchanged';
  const values = {
    last_pull_at: pull.at,
    last_status: pull.status,
    last_detail: pull.detail,
    ...(ok ? { last_success_at: pull.at } : {}),
    ...(pull.counts
      ? {
          imported: pull.counts.imported,
          updated: pull.counts.updated,
          unchanged: pull.counts.unchanged,
          retracted: pull.counts.retracted,
          invalid: pull.counts.invalid,
        }
      : {}),
    ...(pull.validators ? { etag: pull.validators.etag, last_modified: pull.validators.lastModified } : {}),
  };
  await db
    .insertInto('ingest_sources')
    .values({ url: pull.url, ...values })
    .onConflict((oc) => oc.column('url').doUpdateSet(values))
    .execute();
}

export interface SourceState {
  url: string;
  lastPullAt: Date | null;
  lastStatus: string | null;
  lastDetail: string | null;
  lastSuccessAt: Date | null;
  imported: number;
  updated: number;
  unchanged: number;
  retracted: number;
  invalid: number;
}

/** Every source ever pulled, with its last pull. */
export async function listSources(db: Db | Tx): Promise<SourceState[]> {
  const rows = await db.selectFrom('ingest_sources').selectAll().orderBy('url').execute();
  return rows.map((row) => ({
    url: row.url,
    lastPullAt: row.last_pull_at,
    lastStatus: row.last_status,
    lastDetail: row.last_detail,
    lastSuccessAt: row.last_success_at,
    imported: row.imported,
    updated: row.updated,
    unchanged: row.unchanged,
    retracted: row.retracted,
    invalid: row.invalid,
  }));
}

/** Stories of [from, to) per segment (retracted ones left out): does the week have enough? */
export async function countStoriesPerSegment(
  db: Db | Tx,
  from: Date,
  to: Date,
): Promise<Array<{ segment: string; stories: number }>> {
  const rows = await db
    .selectFrom('segments')
    .leftJoin('story_segments', 'story_segments.segment_id', 'segments.id')
    .leftJoin('stories', (join) =>
      join
        .onRef('stories.id', '=', 'story_segments.story_id')
        .on(sql`coalesce(stories.published_at, stories.collected_at)`, '>=', from)
        .on(sql`coalesce(stories.published_at, stories.collected_at)`, '<', to)
        .on('stories.retracted_at', 'is', null),
    )
    .select(['segments.name', sql<number>`count(stories.id)::int`.as('stories')])
    .groupBy(['segments.id', 'segments.name'])
    .orderBy('segments.id')
    .execute();
  return rows.map((row) => ({ segment: row.name, stories: Number(row.stories) }));
}
