import type { Db } from '../db/database.ts';

/**
 * Records a provider event (or a provider's one-time nonce) as seen. True when it is new; false when it
 * was already there: the primary key (provider, event_id) decides, so two deliveries of the same event
 * racing each other still act once. The only writer of webhook_events.
 */
export async function recordWebhookEvent(db: Db, provider: string, eventId: string): Promise<boolean> {
  const inserted = await db
    .insertInto('webhook_events')
    .values({ provider, event_id: eventId })
    .onConflict((conflict) => conflict.doNothing())
    .returning('event_id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/** Forgets an event whose handling failed, so the provider's retry is acted on. */
export async function forgetWebhookEvent(db: Db, provider: string, eventId: string): Promise<void> {
  await db
    .deleteFrom('webhook_events')
    .where('provider', '=', provider)
    .where('event_id', '=', eventId)
    .execute();
}
