import { sql } from 'kysely';
import type { Db, SubscriberStatus, Tx } from '../db/database.ts';
import { appendConsent, type ConsentContext } from './consent-log.ts';
import { erasedAmong, isErased } from './erasure.ts';
import type { SubscriberInput } from './subscriber-import.ts';

const CHUNK = 1000;

export interface UpsertSubscribersResult {
  created: number;
  updated: number;
  /** Known addresses whose name, time zone and segments were already the ones given: not written. */
  unchanged: number;
  /** Addresses erased on request (recap subscriber erase): never added again. */
  refused: string[];
}

export interface UpsertSubscribersOptions {
  trackingDefault?: boolean;
  /** Only add addresses not stored yet; a known subscriber (their name, segments, status) is left alone. */
  insertOnly?: boolean;
}

interface StoredSubscriber {
  name: string | null;
  timeZone: string | null;
  segmentIds: Set<number>;
}

/** Name, time zone and followed segments of the known addresses among `emails`. */
async function storedByEmail(trx: Tx, emails: readonly string[]): Promise<Map<string, StoredSubscriber>> {
  const rows = await trx
    .selectFrom('subscribers')
    .leftJoin('subscriptions', 'subscriptions.subscriber_id', 'subscribers.id')
    .select(['subscribers.email', 'subscribers.name', 'subscribers.time_zone', 'subscriptions.segment_id'])
    .where('subscribers.email', 'in', emails)
    .execute();
  const stored = new Map<string, StoredSubscriber>();
  for (const row of rows) {
    let entry = stored.get(row.email);
    if (!entry) {
      entry = { name: row.name, timeZone: row.time_zone, segmentIds: new Set() };
      stored.set(row.email, entry);
    }
    if (row.segment_id !== null) entry.segmentIds.add(row.segment_id);
  }
  return stored;
}

function sameAsStored(input: SubscriberInput, stored: StoredSubscriber): boolean {
  return (
    input.name === stored.name &&
    input.timeZone === stored.timeZone &&
    input.segmentIds.length === stored.segmentIds.size &&
    input.segmentIds.every((id) => stored.segmentIds.has(id))
  );
}

/**
 * Inserts new subscribers as active (imported lists are consented lists) and updates name and time zone
 * of known ones, by address. Subscriptions are set to exactly the given segments. A known subscriber
 * identical to the input (name, time zone, segments) is not written and counted unchanged. A known
 * subscriber's status is never changed: re-importing a list must not resubscribe anyone who left. A new
 * subscriber's tracking follows their `tracking` cell, else `trackingDefault`; a known one keeps their
 * own choice. With `insertOnly`, known subscribers are left exactly as they are (counted unchanged).
 * Addresses erased on request are refused and returned. Set-based, idempotent; must run in a transaction.
 */
// Long: one set-based upsert per chunk: compare with what is stored, write the difference, log consent.
export async function upsertSubscribers(
  trx: Tx,
  subscribers: readonly SubscriberInput[],
  source: string,
  options: UpsertSubscribersOptions = {},
): Promise<UpsertSubscribersResult> {
  let created = 0;
  let updated = 0;
  let unchanged = 0;
  const refused: string[] = [];
  const trackingDefault = options.trackingDefault ?? true;
  for (let i = 0; i < subscribers.length; i += CHUNK) {
    const chunk = subscribers.slice(i, i + CHUNK);
    const erased = await erasedAmong(
      trx,
      chunk.map((s) => s.email),
    );
    refused.push(...erased);
    const allowed = chunk.filter((s) => !erased.has(s.email));
    if (allowed.length === 0) continue;
    const stored = await storedByEmail(
      trx,
      allowed.map((s) => s.email),
    );
    const batch = allowed.filter((s) => {
      const known = stored.get(s.email);
      return !known || (!options.insertOnly && !sameAsStored(s, known));
    });
    unchanged += allowed.length - batch.length;
    if (batch.length === 0) continue;
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
          tracking_enabled: s.tracking ?? trackingDefault,
        })),
      )
      .onConflict((oc) =>
        options.insertOnly
          ? oc.column('email').doNothing()
          : oc.column('email').doUpdateSet((eb) => ({
              name: eb.ref('excluded.name'),
              time_zone: eb.ref('excluded.time_zone'),
            })),
      )
      // xmax = 0 only on rows this statement inserted.
      .returning(['id', 'email', 'tracking_enabled', sql<boolean>`(xmax = 0)`.as('inserted')])
      .execute();
    const idOf = new Map(rows.map((r) => [r.email, r.id]));
    const inserted = rows.filter((r) => r.inserted);
    const newIds = inserted.map((r) => r.id);
    created += newIds.length;
    updated += rows.length - newIds.length;
    // Added by someone else between the look and the insert (insertOnly): theirs stands.
    unchanged += batch.length - rows.length;
    const ids = rows.map((r) => r.id);
    if (ids.length > 0) await trx.deleteFrom('subscriptions').where('subscriber_id', 'in', ids).execute();
    const subscriptions = batch
      .filter((s) => idOf.has(s.email))
      .flatMap((s) =>
        s.segmentIds.map((segment_id) => ({ subscriber_id: idOf.get(s.email) as string, segment_id })),
      );
    if (subscriptions.length > 0) await trx.insertInto('subscriptions').values(subscriptions).execute();
    if (newIds.length > 0) {
      await trx
        .insertInto('consent_log')
        .values(
          inserted.map((row) => ({
            subscriber_id: row.id,
            action: 'imported',
            detail: JSON.stringify({ source, tracking: row.tracking_enabled }),
          })),
        )
        .execute();
    }
  }
  return { created, updated, unchanged, refused };
}

/** A subscriber's id, address and status, or undefined when there is none with this id. */
export async function findSubscriber(
  db: Db | Tx,
  id: string,
): Promise<{ id: string; email: string; status: SubscriberStatus } | undefined> {
  return db
    .selectFrom('subscribers')
    .select(['id', 'email', 'status'])
    .where('id', '=', id)
    .executeTakeFirst();
}

/** The names of the segments a subscriber follows, in segment order. */
export async function followedSegmentNames(db: Db | Tx, subscriberId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('subscriptions')
    .innerJoin('segments', 'segments.id', 'subscriptions.segment_id')
    .select('segments.name')
    .where('subscriptions.subscriber_id', '=', subscriberId)
    .orderBy('segments.id')
    .execute();
  return rows.map((row) => row.name);
}

/** One reader an operator adds by hand, already confirmed: the basis is why they may be mailed. */
export interface AddedReader {
  email: string;
  name: string | null;
  timeZone: string | null;
  segmentIds: readonly number[];
  tracking: boolean;
  /** The operator's stated basis ("asked at the stand, 2026-12-01"), written to the consent log. */
  basis: string;
}

export type AddReaderResult =
  | { outcome: 'added'; id: string }
  | { outcome: 'exists'; id: string }
  | { outcome: 'erased' };

/**
 * Adds one reader as active and confirmed, following the given segments, with a consent record
 * ('added', the basis and the operator's context). A known address is left alone ('exists'); an
 * address erased on request is refused ('erased'). One transaction.
 */
export async function addReader(
  db: Db,
  reader: AddedReader,
  context: ConsentContext,
): Promise<AddReaderResult> {
  return db.transaction().execute(async (trx) => {
    if (await isErased(trx, reader.email)) return { outcome: 'erased' };
    const inserted = await trx
      .insertInto('subscribers')
      .values({
        email: reader.email,
        name: reader.name,
        time_zone: reader.timeZone,
        status: 'active',
        confirmed_at: sql<Date>`now()`,
        // Parsed by the strict address parser on the way in.
        address_invalid: false,
        tracking_enabled: reader.tracking,
      })
      .onConflict((oc) => oc.column('email').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) {
      const known = await trx
        .selectFrom('subscribers')
        .select('id')
        .where('email', '=', reader.email)
        .executeTakeFirstOrThrow();
      return { outcome: 'exists', id: known.id };
    }
    if (reader.segmentIds.length > 0)
      await trx
        .insertInto('subscriptions')
        .values(reader.segmentIds.map((segment_id) => ({ subscriber_id: inserted.id, segment_id })))
        .execute();
    await appendConsent(trx, inserted.id, 'added', context, {
      basis: reader.basis,
      segmentIds: reader.segmentIds,
      tracking: reader.tracking,
    });
    return { outcome: 'added', id: inserted.id };
  });
}
