import { sql } from 'kysely';
import type { Tx } from '../db/database.ts';
import type { SubscriberInput } from './subscriber-import.ts';

const CHUNK = 1000;

export interface UpsertSubscribersResult {
  created: number;
  updated: number;
}

/**
 * Inserts new subscribers as active (imported lists are consented lists) and updates name and time zone
 * of known ones, by address. Subscriptions are set to exactly the given segments. A known subscriber's
 * status is never changed: re-importing a list must not resubscribe anyone who left. Set-based, idempotent;
 * must run in a transaction.
 */
export async function upsertSubscribers(
  trx: Tx,
  subscribers: readonly SubscriberInput[],
  source: string,
): Promise<UpsertSubscribersResult> {
  let created = 0;
  let updated = 0;
  for (let i = 0; i < subscribers.length; i += CHUNK) {
    const batch = subscribers.slice(i, i + CHUNK);
    const rows = await trx
      .insertInto('subscribers')
      .values(
        batch.map((s) => ({
          email: s.email,
          name: s.name,
          time_zone: s.timeZone,
          status: 'active' as const,
          confirmed_at: sql<Date>`now()`,
          // Parsed by the strict address parser on the way in (parseSubscribersCsv).
          address_invalid: false,
        })),
      )
      .onConflict((oc) =>
        oc
          .column('email')
          .doUpdateSet((eb) => ({ name: eb.ref('excluded.name'), time_zone: eb.ref('excluded.time_zone') })),
      )
      // xmax = 0 only on rows this statement inserted.
      .returning(['id', 'email', sql<boolean>`(xmax = 0)`.as('inserted')])
      .execute();
    const idOf = new Map(rows.map((r) => [r.email, r.id]));
    const newIds = rows.filter((r) => r.inserted).map((r) => r.id);
    created += newIds.length;
    updated += rows.length - newIds.length;
    const ids = rows.map((r) => r.id);
    await trx.deleteFrom('subscriptions').where('subscriber_id', 'in', ids).execute();
    const subscriptions = batch.flatMap((s) =>
      s.segmentIds.map((segment_id) => ({ subscriber_id: idOf.get(s.email) as string, segment_id })),
    );
    if (subscriptions.length > 0) await trx.insertInto('subscriptions').values(subscriptions).execute();
    if (newIds.length > 0) {
      await trx
        .insertInto('consent_log')
        .values(
          newIds.map((subscriber_id) => ({
            subscriber_id,
            action: 'imported',
            detail: JSON.stringify({ source }),
          })),
        )
        .execute();
    }
  }
  return { created, updated };
}
