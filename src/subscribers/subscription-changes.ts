import { sql } from 'kysely';
import type { Db, SubscriberStatus, Tx } from '../db/database.ts';
import type { Segment } from '../stories/segment.ts';
import { appendConsent, type ConsentContext } from './consent-log.ts';

/** A subscriber as the preference and unsubscribe pages show them. */
export interface SubscriberPreferences {
  id: string;
  email: string;
  status: SubscriberStatus;
  pausedUntil: Date | null;
  segmentIds: number[];
  /** The reader's choice: count opens and clicks (pixel and tracked links) or not. */
  trackingEnabled: boolean;
}

/** Loads one subscriber with their followed segments, or null when the id is unknown. */
export async function loadSubscriberPreferences(
  db: Db | Tx,
  subscriberId: string,
): Promise<SubscriberPreferences | null> {
  const row = await db
    .selectFrom('subscribers')
    .select(['id', 'email', 'status', 'paused_until', 'tracking_enabled'])
    .where('id', '=', subscriberId)
    .executeTakeFirst();
  if (!row) return null;
  const subscriptions = await db
    .selectFrom('subscriptions')
    .select('segment_id')
    .where('subscriber_id', '=', subscriberId)
    .orderBy('segment_id')
    .execute();
  return {
    id: row.id,
    email: row.email,
    status: row.status,
    pausedUntil: row.paused_until,
    segmentIds: subscriptions.map((s) => s.segment_id),
    trackingEnabled: row.tracking_enabled,
  };
}

/**
 * Unsubscribes from everything. Idempotent: only the first call changes the row and writes a consent
 * record; later calls return `changed: false`. Bounced or complained addresses keep that status.
 * Takes effect for a send in progress because the sending worker re-checks status = 'active' at claim.
 */
export async function unsubscribeSubscriber(
  db: Db,
  subscriberId: string,
  context: ConsentContext,
  detail: Record<string, unknown> = {},
): Promise<{ changed: boolean }> {
  return db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable('subscribers')
      .set({ status: 'unsubscribed', unsubscribed_at: sql<Date>`now()` })
      .where('id', '=', subscriberId)
      .where('status', 'in', ['active', 'pending', 'sunset'])
      .returning('id')
      .executeTakeFirst();
    if (!updated) return { changed: false };
    await appendConsent(trx, subscriberId, 'unsubscribe', context, detail);
    return { changed: true };
  });
}

/**
 * Undoes an unsubscribe (the "undo" button on the goodbye page). Only an 'unsubscribed' address comes
 * back; bounced, complained and never-confirmed ones do not. Idempotent.
 */
export async function resubscribeSubscriber(
  db: Db,
  subscriberId: string,
  context: ConsentContext,
  detail: Record<string, unknown> = {},
): Promise<{ changed: boolean }> {
  return db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable('subscribers')
      .set({ status: 'active', unsubscribed_at: null })
      .where('id', '=', subscriberId)
      .where('status', '=', 'unsubscribed')
      .where('confirmed_at', 'is not', null)
      .returning('id')
      .executeTakeFirst();
    if (!updated) return { changed: false };
    await appendConsent(trx, subscriberId, 'resubscribe', context, detail);
    return { changed: true };
  });
}

export interface PreferenceChange {
  /** Segments to follow from now on; unknown ids are ignored. At least one is needed to stay subscribed. */
  segmentIds: readonly number[];
  /** Skip the recap for this many weeks from `now`; 0 resumes at once; undefined keeps the stored pause. */
  pauseWeeks: number | undefined;
  /**
   * Whether choosing segments brings an unsubscribed reader back (the reader's own choice, default).
   * False for the editor: only the reader may resubscribe themselves.
   */
  mayResubscribe?: boolean;
}

/**
 * Replaces the followed segments and sets, clears or keeps the pause, in one transaction with a consent record.
 * An unsubscribed (not bounced or complained) address choosing segments again becomes active.
 */
export async function updatePreferences(
  db: Db,
  subscriberId: string,
  change: PreferenceChange,
  context: ConsentContext,
  now: Date = new Date(),
): Promise<SubscriberPreferences | null> {
  return db.transaction().execute(async (trx) => {
    const current = await trx
      .selectFrom('subscribers')
      .select(['status', 'confirmed_at', 'paused_until'])
      .where('id', '=', subscriberId)
      .forUpdate()
      .executeTakeFirst();
    if (!current) return null;
    const known = await existingSegmentIds(trx, change.segmentIds);
    await trx.deleteFrom('subscriptions').where('subscriber_id', '=', subscriberId).execute();
    if (known.length > 0) {
      await trx
        .insertInto('subscriptions')
        .values(known.map((segment_id) => ({ subscriber_id: subscriberId, segment_id })))
        .execute();
    }
    const pausedUntil =
      change.pauseWeeks === undefined ? current.paused_until : pauseEnd(change.pauseWeeks, now);
    const comesBack =
      change.mayResubscribe !== false &&
      (current.status === 'unsubscribed' || current.status === 'sunset') &&
      current.confirmed_at !== null &&
      known.length > 0;
    await trx
      .updateTable('subscribers')
      .set({
        paused_until: pausedUntil,
        ...(comesBack
          ? {
              status: 'active' as const,
              unsubscribed_at: null,
              sunset_at: null,
              reengagement_sent_at: null,
              inactivity_counted_from: now,
            }
          : {}),
      })
      .where('id', '=', subscriberId)
      .execute();
    await appendConsent(trx, subscriberId, 'preferences', context, {
      segmentIds: known,
      pausedUntil: pausedUntil?.toISOString() ?? null,
      resubscribed: comesBack,
    });
    return loadSubscriberPreferences(trx, subscriberId);
  });
}

function pauseEnd(pauseWeeks: number, now: Date): Date | null {
  const weeks = Math.max(0, Math.min(52, Math.floor(pauseWeeks)));
  return weeks > 0 ? new Date(now.getTime() + weeks * 7 * 86_400_000) : null;
}

/**
 * Records the reader's tracking choice ("Count my opens and clicks") with what they were shown, in one
 * transaction. Idempotent: an unchanged choice writes nothing. Turning tracking off also marks their
 * still-queued deliveries untracked, so what the ledger says matches what was sent.
 */
export async function setTracking(
  db: Db | Tx,
  subscriberId: string,
  enabled: boolean,
  context: ConsentContext,
  shown: string,
): Promise<{ changed: boolean }> {
  const run = async (trx: Db | Tx) => {
    const updated = await trx
      .updateTable('subscribers')
      .set({ tracking_enabled: enabled })
      .where('id', '=', subscriberId)
      .where('tracking_enabled', '=', !enabled)
      .where('status', '<>', 'erased')
      .returning('id')
      .executeTakeFirst();
    if (!updated) return { changed: false };
    if (!enabled) {
      await trx
        .updateTable('deliveries')
        .set({ tracked: false })
        .where('subscriber_id', '=', subscriberId)
        .where('status', '=', 'queued')
        .execute();
    }
    await appendConsent(trx, subscriberId, enabled ? 'tracking-on' : 'tracking-off', context, {
      tracking: enabled,
      shown,
    });
    return { changed: true };
  };
  return db.isTransaction ? run(db) : (db as Db).transaction().execute(run);
}

async function existingSegmentIds(db: Db | Tx, ids: readonly number[]): Promise<number[]> {
  const wanted = [...new Set(ids)].filter((id) => Number.isSafeInteger(id) && id > 0);
  if (wanted.length === 0) return [];
  const rows = await db.selectFrom('segments').select('id').where('id', 'in', wanted).orderBy('id').execute();
  return rows.map((row) => row.id);
}

/** Maps segment slugs (from a form) to known segments, silently dropping unknown slugs. */
export function segmentsBySlug(all: readonly Segment[], slugs: readonly string[]): Segment[] {
  const wanted = new Set(slugs);
  return all.filter((segment) => wanted.has(segment.slug));
}
