import { sql } from 'kysely';
import type { Db, Tx } from '../db/database.ts';
import { parseEmailAddress } from './email-address.ts';

const BATCH = 10_000;

/**
 * Runs the strict address parser over every subscriber not checked yet (address_invalid IS NULL:
 * stored before the parser existed, written by other means, or changed since) and records the verdict,
 * in batches of ids and one UPDATE … FROM unnest per batch. Cheap once done: later calls find nothing.
 * Returns how many addresses it found invalid. Idempotent.
 */
export async function checkStoredAddresses(db: Db | Tx): Promise<number> {
  let after = '0';
  let invalid = 0;
  for (;;) {
    const rows = await db
      .selectFrom('subscribers')
      .select(['id', 'email'])
      .where('address_invalid', 'is', null)
      .where('id', '>', after)
      .orderBy('id')
      .limit(BATCH)
      .execute();
    const last = rows.at(-1);
    if (!last) return invalid;
    after = last.id;
    const verdicts = rows.map((row) => !parseEmailAddress(row.email).ok);
    invalid += verdicts.filter(Boolean).length;
    await sql`
      UPDATE subscribers s SET address_invalid = v.invalid
      FROM unnest(${rows.map((row) => row.id)}::bigint[], ${verdicts}::boolean[]) AS v(id, invalid)
      WHERE s.id = v.id
    `.execute(db);
  }
}

export interface InvalidAddress {
  id: string;
  email: string;
  status: string;
  reason: string;
}

/** Every stored address the strict parser refuses (checking unchecked ones first), with the reason. */
export async function listInvalidAddresses(db: Db): Promise<InvalidAddress[]> {
  await checkStoredAddresses(db);
  const rows = await db
    .selectFrom('subscribers')
    .select(['id', 'email', 'status'])
    .where('address_invalid', '=', true)
    .orderBy('id')
    .execute();
  return rows.map((row) => {
    const parsed = parseEmailAddress(row.email);
    return { ...row, reason: parsed.ok ? 'valid now (recheck pending)' : parsed.reason };
  });
}
