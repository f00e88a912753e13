import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { FireOutcome, FireState } from './schedule-decision.ts';

export interface FireRecord extends FireState {
  scheduleName: string;
  slot: Date;
  firedAt: Date;
  week: string | null;
  detail: string | null;
}

/**
 * Claims a slot for this owner: inserts the fire row keyed by (schedule name, slot) with ON CONFLICT DO
 * NOTHING. Exactly one caller across all processes and machines gets true. Never throws on a lost race.
 */
export async function claimSlot(
  db: Db,
  fire: {
    scheduleName: string;
    slot: Date;
    owner: string;
    week: string;
    outcome: FireOutcome;
    detail: string;
    now: Date;
  },
): Promise<boolean> {
  const inserted = await db
    .insertInto('schedule_fires')
    .values({
      schedule_name: fire.scheduleName,
      slot: fire.slot,
      owner: fire.owner,
      week: fire.week,
      outcome: fire.outcome,
      detail: fire.detail,
      fired_at: fire.now,
      updated_at: fire.now,
    })
    .onConflict((oc) => oc.columns(['schedule_name', 'slot']).doNothing())
    .returning('slot')
    .executeTakeFirst();
  return inserted !== undefined;
}

/**
 * Takes over a slot whose row still holds `expected` (outcome and heartbeat as last read): a compare-and-set,
 * so of several processes taking over the same row only one succeeds.
 */
export async function takeOverSlot(
  db: Db,
  fire: { scheduleName: string; slot: Date; owner: string; now: Date; detail: string },
  expected: FireState,
): Promise<boolean> {
  const updated = await db
    .updateTable('schedule_fires')
    .set({ owner: fire.owner, outcome: 'running', detail: fire.detail, updated_at: fire.now })
    .where('schedule_name', '=', fire.scheduleName)
    .where('slot', '=', fire.slot)
    .where('owner', '=', expected.owner)
    .where(sql<boolean>`outcome IS NOT DISTINCT FROM ${expected.outcome}`)
    // Compared at the millisecond a JS Date holds, whatever precision the column kept.
    .where(sql<Date>`date_trunc('milliseconds', updated_at)`, '=', expected.updatedAt)
    .returning('slot')
    .executeTakeFirst();
  return updated !== undefined;
}

/** Records what the owner decided for the slot. Only the owner's row is touched. */
export async function recordOutcome(
  db: Db,
  fire: { scheduleName: string; slot: Date; owner: string; now: Date },
  outcome: FireOutcome,
  detail: string,
): Promise<void> {
  await db
    .updateTable('schedule_fires')
    .set({ outcome, detail, updated_at: fire.now })
    .where('schedule_name', '=', fire.scheduleName)
    .where('slot', '=', fire.slot)
    .where('owner', '=', fire.owner)
    .execute();
}

/** Keeps a running claim alive so other processes do not take it over while a long send runs. */
export async function heartbeat(
  db: Db,
  fire: { scheduleName: string; slot: Date; owner: string },
  now: Date,
): Promise<void> {
  await db
    .updateTable('schedule_fires')
    .set({ updated_at: now })
    .where('schedule_name', '=', fire.scheduleName)
    .where('slot', '=', fire.slot)
    .where('owner', '=', fire.owner)
    .where('outcome', '=', 'running')
    .execute();
}

export async function loadFire(db: Db, scheduleName: string, slot: Date): Promise<FireRecord | null> {
  const row = await db
    .selectFrom('schedule_fires')
    .selectAll()
    .where('schedule_name', '=', scheduleName)
    .where('slot', '=', slot)
    .executeTakeFirst();
  return row ? fireRowToRecord(row) : null;
}

/** The most recent fire rows of a schedule, newest first (for the dashboard and `recap schedule --status`). */
export async function listFires(db: Db, scheduleName: string, limit = 20): Promise<FireRecord[]> {
  const rows = await db
    .selectFrom('schedule_fires')
    .selectAll()
    .where('schedule_name', '=', scheduleName)
    .orderBy('slot', 'desc')
    .limit(limit)
    .execute();
  return rows.map(fireRowToRecord);
}

function fireRowToRecord(row: {
  schedule_name: string;
  slot: Date;
  fired_at: Date;
  owner: string;
  outcome: string | null;
  week: string | null;
  detail: string | null;
  updated_at: Date;
}): FireRecord {
  return {
    scheduleName: row.schedule_name,
    slot: row.slot,
    firedAt: row.fired_at,
    owner: row.owner,
    outcome: row.outcome,
    week: row.week,
    detail: row.detail,
    updatedAt: row.updated_at,
  };
}
