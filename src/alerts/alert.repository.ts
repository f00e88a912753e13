import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

export interface AlertRecord {
  kind: string;
  cause: string;
  subject: string;
  payload: Record<string, unknown>;
}

/**
 * Records an alert cause. True for exactly one caller per (kind, cause), whatever the number of processes:
 * that caller sends it; every later call with the same cause returns false. Idempotent.
 */
export async function claimAlert(db: Db, alert: AlertRecord): Promise<boolean> {
  const row = await db
    .insertInto('alerts')
    .values({
      kind: alert.kind,
      cause: alert.cause,
      subject: alert.subject,
      payload: JSON.stringify(alert.payload),
    })
    .onConflict((conflict) => conflict.columns(['kind', 'cause']).doNothing())
    .returning('kind')
    .executeTakeFirst();
  return row !== undefined;
}

/** Notes how the sending of a claimed alert went: `error` null when every channel took it. */
export async function recordAlertDelivery(
  db: Db,
  key: { kind: string; cause: string },
  error: string | null,
): Promise<void> {
  await db
    .updateTable('alerts')
    .set({ delivered_at: error === null ? sql`now()` : null, error: error?.slice(0, 2000) ?? null })
    .where('kind', '=', key.kind)
    .where('cause', '=', key.cause)
    .execute();
}
