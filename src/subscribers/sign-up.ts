import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { appendConsent, type ConsentContext } from './consent-log.ts';
import type { EmailAddress } from './email-address.ts';
import { isErased } from './erasure.ts';

/** What the sign-up form showed and what the person asked for: kept verbatim in the consent log. */
export interface SignUpRequest {
  email: EmailAddress;
  segmentIds: readonly number[];
  /** "Count my opens and clicks": applied when the address is confirmed. Undefined keeps the current choice. */
  tracking?: boolean;
  /** The wording of the form and of the confirmation mail, as shown. */
  shown: Record<string, string>;
}

export type SignUpOutcome =
  /**
   * A confirmation mail must be sent: the address is pending (new), was unsubscribed, or complained
   * (a new explicit opt-in is the only way back after a complaint).
   */
  | 'confirm'
  /** Already receiving the recap: nothing to do (the page says the same as for 'confirm'). */
  | 'active'
  /** Bounced: never mailed again from a web form. */
  | 'suppressed'
  /** A confirmation went to this address less than SIGNUP_CONFIRM_INTERVAL ago: not mailed again. */
  | 'throttled';

/** The address's confirmation slot as requestSignUp claimed it: what releaseConfirmationSlot puts back. */
export interface ConfirmationSlot {
  subscriberId: string;
  claimedAt: Date;
  previous: Date | null;
}

/**
 * First half of double opt-in: creates the subscriber as 'pending' (never mailed the recap) when new,
 * and, when a confirmation may be mailed, claims the address's confirmation slot and records the
 * request with what was shown. At most one confirmation per address per `confirmIntervalSeconds`,
 * held in the database (subscribers.confirmation_sent_at) so it holds across processes. A bounced or
 * active address is never mailed. A complained address may ask again: the confirmation is the new,
 * explicit opt-in, and both the complaint and the new consent stay in the log. The address is only
 * activated by confirmSignUp. With outcome 'confirm' comes the claimed `slot`: give it back with
 * releaseConfirmationSlot when the mail is not handed to the mailer.
 */
export async function requestSignUp(
  db: Db,
  request: SignUpRequest,
  context: ConsentContext,
  confirmIntervalSeconds: number,
): Promise<{ subscriberId: string; outcome: SignUpOutcome; slot?: ConfirmationSlot }> {
  // Erased on request: never recreated from a form (the page answers as for any other address).
  if (await isErased(db, request.email)) return { subscriberId: '', outcome: 'suppressed' };
  return db.transaction().execute(async (trx) => {
    await trx
      .insertInto('subscribers')
      .values({ email: request.email, status: 'pending', address_invalid: false })
      .onConflict((oc) => oc.column('email').doNothing())
      .execute();
    const row = await trx
      .selectFrom('subscribers')
      .select(['id', 'status', 'confirmation_sent_at'])
      .where('email', '=', request.email)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (row.status === 'active') return { subscriberId: row.id, outcome: 'active' as const };
    if (row.status === 'bounced') return { subscriberId: row.id, outcome: 'suppressed' as const };
    const claimed = await trx
      .updateTable('subscribers')
      // Whole milliseconds: the time comes back as a JavaScript Date, and releasing compares it.
      .set({ confirmation_sent_at: sql<Date>`date_trunc('milliseconds', now())` })
      .where('id', '=', row.id)
      .where((eb) =>
        eb.or([
          eb('confirmation_sent_at', 'is', null),
          eb(
            'confirmation_sent_at',
            '<=',
            sql<Date>`now() - make_interval(secs => ${confirmIntervalSeconds})`,
          ),
        ]),
      )
      .returning('confirmation_sent_at')
      .executeTakeFirst();
    if (!claimed?.confirmation_sent_at) return { subscriberId: row.id, outcome: 'throttled' as const };
    await appendConsent(trx, row.id, 'signup-requested', context, {
      segmentIds: [...request.segmentIds],
      ...(request.tracking === undefined ? {} : { tracking: request.tracking }),
      shown: request.shown,
    });
    const slot = {
      subscriberId: row.id,
      claimedAt: claimed.confirmation_sent_at,
      previous: row.confirmation_sent_at,
    };
    return { subscriberId: row.id, outcome: 'confirm' as const, slot };
  });
}

/**
 * Gives back a confirmation slot whose mail never reached the mailer, so the person may ask again at
 * once: restores the address's previous confirmation time, unless another claim took the slot since.
 * Idempotent.
 */
export async function releaseConfirmationSlot(db: Db, slot: ConfirmationSlot): Promise<void> {
  await db
    .updateTable('subscribers')
    .set({ confirmation_sent_at: slot.previous })
    .where('id', '=', slot.subscriberId)
    .where('confirmation_sent_at', '=', slot.claimedAt)
    .execute();
}

export type ConfirmOutcome = 'confirmed' | 'already-active' | 'not-requested' | 'suppressed' | 'unknown';

/**
 * Second half of double opt-in (the link in the confirmation mail): activates the address with the
 * segments of its latest sign-up request. Idempotent. A request older than the latest unsubscribe or
 * complaint does not count, so an old confirmation link cannot undo either; a complained address comes
 * back only through a request made after its complaint.
 */
export async function confirmSignUp(
  db: Db,
  subscriberId: string,
  context: ConsentContext,
): Promise<ConfirmOutcome> {
  return db.transaction().execute(async (trx) => {
    const subscriber = await trx
      .selectFrom('subscribers')
      .select(['id', 'status'])
      .where('id', '=', subscriberId)
      .forUpdate()
      .executeTakeFirst();
    if (!subscriber) return 'unknown';
    if (subscriber.status === 'active') return 'already-active';
    if (subscriber.status === 'bounced') return 'suppressed';
    const latest = await trx
      .selectFrom('consent_log')
      .select(['action', 'detail'])
      .where('subscriber_id', '=', subscriberId)
      .where('action', 'in', ['signup-requested', 'unsubscribe', 'complaint'])
      .orderBy('occurred_at', 'desc')
      .orderBy('id', 'desc')
      .executeTakeFirst();
    if (latest?.action !== 'signup-requested') return 'not-requested';
    const requested = Array.isArray(latest.detail.segmentIds) ? (latest.detail.segmentIds as unknown[]) : [];
    const segmentIds = requested.filter((id): id is number => typeof id === 'number');
    const known =
      segmentIds.length === 0
        ? []
        : await trx.selectFrom('segments').select('id').where('id', 'in', segmentIds).execute();
    await trx.deleteFrom('subscriptions').where('subscriber_id', '=', subscriberId).execute();
    if (known.length > 0) {
      await trx
        .insertInto('subscriptions')
        .values(known.map((row) => ({ subscriber_id: subscriberId, segment_id: row.id })))
        .execute();
    }
    const tracking = typeof latest.detail.tracking === 'boolean' ? latest.detail.tracking : undefined;
    await trx
      .updateTable('subscribers')
      .set({
        status: 'active',
        confirmed_at: sql<Date>`now()`,
        unsubscribed_at: null,
        ...(tracking === undefined ? {} : { tracking_enabled: tracking }),
      })
      .where('id', '=', subscriberId)
      .execute();
    await appendConsent(trx, subscriberId, 'confirm', context, {
      ...(subscriber.status === 'complained' ? { after: 'complaint' } : {}),
      segmentIds: known.map((row) => row.id),
      ...(tracking === undefined ? {} : { tracking }),
    });
    return 'confirmed';
  });
}
