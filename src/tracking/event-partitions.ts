import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

/**
 * tracking_events is partitioned by UTC month (migration 20261130070000): one table per month named
 * tracking_events_pYYYYMM, and tracking_events_default for whatever falls outside them, so an insert
 * never fails for want of a partition. The server and the schedule create partitions ahead and drop
 * the expired ones; the rollups (src/tracking/event-rollups.ts) are not touched by either.
 */

const PARTITION_NAME = /^tracking_events_p(\d{4})(\d{2})$/;
// Two processes creating the same month must take turns.
const PARTITION_LOCK = 7_310_917_016;

interface Month {
  year: number;
  /** 1–12. */
  month: number;
}

function monthOf(date: Date): Month {
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1 };
}

function addMonths(m: Month, n: number): Month {
  const index = m.year * 12 + (m.month - 1) + n;
  return { year: Math.floor(index / 12), month: (index % 12) + 1 };
}

function monthStart(m: Month): Date {
  return new Date(Date.UTC(m.year, m.month - 1, 1));
}

function partitionName(m: Month): string {
  return `tracking_events_p${m.year}${String(m.month).padStart(2, '0')}`;
}

/**
 * Makes sure the partitions of the month of `now` and the `monthsAhead` following months exist. Rows
 * already in the default partition for a month being created are moved into it (a partition cannot be
 * added over rows the default holds). Idempotent, safe from several processes. Returns the names created.
 */
export async function ensureEventPartitions(db: Db, now: Date, monthsAhead = 2): Promise<string[]> {
  const created: string[] = [];
  for (let i = 0; i <= monthsAhead; i += 1) {
    const month = addMonths(monthOf(now), i);
    const name = partitionName(month);
    if (await partitionExists(db, name)) continue;
    const from = monthStart(month).toISOString();
    const to = monthStart(addMonths(month, 1)).toISOString();
    const made = await db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${PARTITION_LOCK})`.execute(trx);
      if (await partitionExists(trx, name)) return false;
      const waiting = await sql<{ one: number }>`
        SELECT 1 AS one FROM tracking_events_default WHERE occurred_at >= ${from}::timestamptz AND occurred_at < ${to}::timestamptz LIMIT 1
      `.execute(trx);
      const bounds = `FOR VALUES FROM ('${from}') TO ('${to}')`;
      if (waiting.rows.length === 0) {
        await sql.raw(`CREATE TABLE ${name} PARTITION OF tracking_events ${bounds}`).execute(trx);
        return true;
      }
      await sql
        .raw(`CREATE TABLE ${name} (LIKE tracking_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`)
        .execute(trx);
      await sql`
        WITH moved AS (
          DELETE FROM tracking_events_default WHERE occurred_at >= ${from}::timestamptz AND occurred_at < ${to}::timestamptz
          RETURNING *
        )
        INSERT INTO ${sql.table(name)} SELECT * FROM moved
      `.execute(trx);
      await sql.raw(`ALTER TABLE tracking_events ATTACH PARTITION ${name} ${bounds}`).execute(trx);
      return true;
    });
    if (made) created.push(name);
  }
  return created;
}

async function partitionExists(db: Db, name: string): Promise<boolean> {
  const { rows } = await sql<{ found: string | null }>`SELECT to_regclass(${name})::text AS found`.execute(
    db,
  );
  return rows[0]?.found != null;
}

export interface RetentionResult {
  /** Monthly partitions dropped whole. */
  dropped: string[];
  /** Old rows deleted from the default partition. */
  purged: number;
}

/**
 * Drops every monthly partition whose whole month is older than `retentionDays` before `now`, and
 * deletes the default partition's rows older than that. The rollups keep every count. Idempotent.
 */
export async function dropExpiredEventPartitions(
  db: Db,
  now: Date,
  retentionDays: number,
): Promise<RetentionResult> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
  const { rows } = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'tracking_events'::regclass ORDER BY 1
  `.execute(db);
  const dropped: string[] = [];
  for (const { name } of rows) {
    const match = PARTITION_NAME.exec(name);
    if (!match) continue;
    const end = monthStart(addMonths({ year: Number(match[1]), month: Number(match[2]) }, 1));
    if (end.getTime() > cutoff.getTime()) continue;
    await sql.raw(`DROP TABLE IF EXISTS ${name}`).execute(db);
    dropped.push(name);
  }
  const purged = await sql`
    DELETE FROM tracking_events_default WHERE occurred_at < ${cutoff.toISOString()}::timestamptz
  `.execute(db);
  return { dropped, purged: Number(purged.numAffectedRows ?? 0) };
}
