import type { Db, Tx } from '../db/database.ts';

/** Who asked for a change and from where: kept with every consent record. */
export interface ConsentContext {
  ip: string | null;
  userAgent: string | null;
  /** The channel: 'web', 'one-click', 'mailto', 'bounce', 'complaint', 'cli'. */
  source: string;
}

/** Appends one consent record; `detail` says what the person was shown and what changed. */
export async function appendConsent(
  db: Db | Tx,
  subscriberId: string,
  action: string,
  context: ConsentContext,
  detail: Record<string, unknown> = {},
): Promise<void> {
  await db
    .insertInto('consent_log')
    .values({
      subscriber_id: subscriberId,
      action,
      ip: context.ip,
      user_agent: context.userAgent?.slice(0, 500) ?? null,
      detail: JSON.stringify({ source: context.source, ...detail }),
    })
    .execute();
}
