import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { appendConsent, type ConsentContext } from './consent-log.ts';

const bounceContext: ConsentContext = { ip: null, userAgent: null, source: 'bounce' };

/**
 * A permanent failure (5.x.x): the address is suppressed at once (status 'bounced') and the issue's
 * delivery marked bounced. A complained address keeps 'complained'. Idempotent.
 */
export async function recordHardBounce(
  db: Db,
  subscriberId: string,
  issueId: number | null,
  detail: Record<string, unknown>,
): Promise<{ changed: boolean }> {
  return db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable('subscribers')
      .set({ status: 'bounced' })
      .where('id', '=', subscriberId)
      .where('status', 'in', ['active', 'pending', 'unsubscribed'])
      .returning('id')
      .executeTakeFirst();
    if (issueId !== null) {
      await trx
        .updateTable('deliveries')
        .set({ status: 'bounced', last_error: String(detail.status ?? 'hard bounce') })
        .where('issue_id', '=', issueId)
        .where('subscriber_id', '=', subscriberId)
        .execute();
    }
    if (updated)
      await appendConsent(trx, subscriberId, 'suppressed-hard-bounce', bounceContext, { issueId, ...detail });
    return { changed: Boolean(updated) };
  });
}

/**
 * A temporary failure (4.x.x) reported as final: counted once per issue (a report for the same or an
 * older issue than the last one counted changes nothing), and only across consecutive
 * issues (a soft bounce after an issue that did not bounce starts again at 1). At `limit` the address is
 * suppressed like a hard bounce.
 */
export async function recordSoftBounce(
  db: Db,
  subscriberId: string,
  issueId: number | null,
  limit: number,
  detail: Record<string, unknown>,
): Promise<{ count: number; suppressed: boolean }> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('subscribers')
      .select(['status', 'soft_bounce_count', 'last_soft_bounce_issue_id'])
      .where('id', '=', subscriberId)
      .forUpdate()
      .executeTakeFirst();
    if (!row) return { count: 0, suppressed: false };
    // Once per issue: a repeated report (or one for an older issue) changes nothing, so a burst of
    // reports for one issue can never add up to the limit.
    if (
      issueId !== null &&
      row.last_soft_bounce_issue_id !== null &&
      issueId <= row.last_soft_bounce_issue_id
    ) {
      return { count: row.soft_bounce_count, suppressed: row.status === 'bounced' };
    }
    let consecutive = true;
    if (issueId !== null && row.last_soft_bounce_issue_id !== null) {
      const previous = await trx
        .selectFrom('deliveries')
        .select(sql<number | null>`max(issue_id)`.as('issue_id'))
        .where('subscriber_id', '=', subscriberId)
        .where('issue_id', '<', issueId)
        .executeTakeFirst();
      consecutive = previous?.issue_id === row.last_soft_bounce_issue_id;
    }
    const count = consecutive ? row.soft_bounce_count + 1 : 1;
    const suppress = count >= limit && ['active', 'pending', 'unsubscribed'].includes(row.status);
    await trx
      .updateTable('subscribers')
      .set({
        soft_bounce_count: count,
        last_soft_bounce_issue_id: issueId,
        ...(suppress ? { status: 'bounced' as const } : {}),
      })
      .where('id', '=', subscriberId)
      .execute();
    await appendConsent(
      trx,
      subscriberId,
      suppress ? 'suppressed-soft-bounces' : 'soft-bounce',
      bounceContext,
      {
        issueId,
        count,
        limit,
        ...detail,
      },
    );
    return { count, suppressed: suppress || row.status === 'bounced' };
  });
}

/** A spam complaint (ARF feedback report): unsubscribed and suppressed for good (status 'complained'). Idempotent. */
export async function recordComplaint(
  db: Db,
  subscriberId: string,
  detail: Record<string, unknown>,
): Promise<{ changed: boolean }> {
  return db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable('subscribers')
      .set({ status: 'complained', unsubscribed_at: sql<Date>`coalesce(unsubscribed_at, now())` })
      .where('id', '=', subscriberId)
      .where('status', '<>', 'complained')
      .returning('id')
      .executeTakeFirst();
    if (updated) {
      await appendConsent(
        trx,
        subscriberId,
        'complaint',
        { ip: null, userAgent: null, source: 'complaint' },
        detail,
      );
    }
    return { changed: Boolean(updated) };
  });
}

/**
 * Lifts a suppression (bounced or complained) on the editor's word: the address is mailed again
 * (active when it was ever confirmed, else pending), its soft-bounce count starts over, and the reason
 * given goes to the consent log with the status it had. Refuses (changed: false) any other status.
 */
export async function unsuppressSubscriber(
  db: Db,
  subscriberId: string,
  reason: string,
  context: ConsentContext,
): Promise<{ changed: boolean; previous?: string }> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('subscribers')
      .select(['status'])
      .where('id', '=', subscriberId)
      .forUpdate()
      .executeTakeFirst();
    if (!row || (row.status !== 'bounced' && row.status !== 'complained')) return { changed: false };
    await trx
      .updateTable('subscribers')
      .set({
        status: sql`CASE WHEN confirmed_at IS NULL THEN 'pending' ELSE 'active' END`,
        soft_bounce_count: 0,
        last_soft_bounce_issue_id: null,
        unsubscribed_at: null,
      })
      .where('id', '=', subscriberId)
      .execute();
    await appendConsent(trx, subscriberId, 'unsuppressed', context, { reason, previousStatus: row.status });
    return { changed: true, previous: row.status };
  });
}
