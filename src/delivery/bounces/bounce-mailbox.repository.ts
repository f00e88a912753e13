import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';

/** One message of the bounce mailbox: the folder's identity, its UIDVALIDITY and the message's UID. */
export interface MailboxMessageKey {
  mailbox: string;
  uidValidity: string;
  uid: number;
}

/**
 * What a poller may do with a message: act on it ('claimed'), leave it to the poller acting on it or
 * moving it now ('busy'), or only move it to `folder`, where it was bound once handled ('handled').
 */
export type MailboxClaim = { kind: 'claimed' } | { kind: 'busy' } | { kind: 'handled'; folder: string };

const byKey = (key: MailboxMessageKey) =>
  ({ mailbox: key.mailbox, uid_validity: key.uidValidity, uid: String(key.uid) }) as const;

/**
 * Takes a message on for `owner`: the first poller to insert its row acts. A row untouched for
 * `staleMs` belongs to a poller that stopped mid-way: one left unhandled is taken over to be acted on,
 * one handled but still in the folder is taken over to be moved only. Safe against any number of
 * pollers at once: the primary key and conditional updates decide, so one poller acts on a message and
 * one moves it (IMAP servers copy a message that two sessions MOVE at once). The only writer of
 * bounce_mailbox_messages.
 */
export async function claimMailboxMessage(
  db: Db,
  key: MailboxMessageKey,
  owner: string,
  staleMs: number,
): Promise<MailboxClaim> {
  const row = byKey(key);
  const inserted = await db
    .insertInto('bounce_mailbox_messages')
    .values({ ...row, claimed_by: owner })
    .onConflict((conflict) => conflict.doNothing())
    .returning('uid')
    .executeTakeFirst();
  if (inserted) return { kind: 'claimed' };
  const takenOver = await db
    .updateTable('bounce_mailbox_messages')
    .set({ claimed_by: owner, claimed_at: sql<Date>`now()` })
    .where('mailbox', '=', row.mailbox)
    .where('uid_validity', '=', row.uid_validity)
    .where('uid', '=', row.uid)
    .where('claimed_at', '<', sql<Date>`now() - make_interval(secs => ${staleMs / 1000})`)
    .returning(['handled_at', 'folder'])
    .executeTakeFirst();
  if (!takenOver) return { kind: 'busy' };
  if (takenOver.handled_at && takenOver.folder) return { kind: 'handled', folder: takenOver.folder };
  return { kind: 'claimed' };
}

/** Records a claimed message as acted on, with the folder it goes to and what became of it. */
export async function markMailboxMessageHandled(
  db: Db,
  key: MailboxMessageKey,
  handled: { folder: string; outcome: string; messageId: string | null },
): Promise<void> {
  const row = byKey(key);
  await db
    .updateTable('bounce_mailbox_messages')
    .set({
      handled_at: new Date(),
      folder: handled.folder,
      outcome: handled.outcome.slice(0, 500),
      message_id: handled.messageId?.slice(0, 500) ?? null,
    })
    .where('mailbox', '=', row.mailbox)
    .where('uid_validity', '=', row.uid_validity)
    .where('uid', '=', row.uid)
    .execute();
}

/** Gives up `owner`'s claim on a message not handled (its handling failed), so the next poll acts on it. */
export async function releaseMailboxMessage(db: Db, key: MailboxMessageKey, owner: string): Promise<void> {
  const row = byKey(key);
  await db
    .deleteFrom('bounce_mailbox_messages')
    .where('mailbox', '=', row.mailbox)
    .where('uid_validity', '=', row.uid_validity)
    .where('uid', '=', row.uid)
    .where('claimed_by', '=', owner)
    .where('handled_at', 'is', null)
    .execute();
}

/** Forgets messages handled more than `days` ago: long moved out of the folder polled. Returns how many. */
export async function purgeMailboxMessages(db: Db, days: number): Promise<number> {
  const result = await db
    .deleteFrom('bounce_mailbox_messages')
    .where('handled_at', '<', sql<Date>`now() - make_interval(days => ${days})`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
