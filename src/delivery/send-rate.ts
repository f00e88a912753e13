import { setTimeout as sleepFor } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

/**
 * A limit of messages per second that holds for all workers together, in every process, with
 * PostgreSQL as the only coordinator: each second of database time is a row in send_rate_slots, and a
 * worker reserves a few tokens from it before sending. Tokens expire with their second, so the limit
 * is never exceeded, only sometimes under-used.
 */
export interface SendRateGate {
  /** Resolves when one message may be sent; rejects if the signal aborts. */
  take(signal?: AbortSignal): Promise<void>;
}

export const unlimited: SendRateGate = { take: async () => {} };

/**
 * A per-recipient-domain limit (SEND_DOMAIN_LIMITS), shared by all workers through send_domain_slots the
 * way SEND_RATE is through send_rate_slots. Never blocks: a worker asks `tryTake()` and, when the
 * domain's second is used up, sends to other domains meanwhile; `ready()` resolves when it may ask again.
 */
export interface DomainGate {
  tryTake(): boolean;
  ready(): Promise<void>;
}

/** Reserves up to `wanted` tokens of the current second for one recipient domain. */
export async function reserveDomainTokens(
  db: Db,
  domain: string,
  wanted: number,
  ratePerSecond: number,
): Promise<{ granted: number; msLeft: number }> {
  const { rows } = await sql<{ granted: number; ms_left: number }>`
    WITH clock AS (SELECT extract(epoch FROM clock_timestamp()) AS t),
    slot AS (
      INSERT INTO send_domain_slots (domain, slot, used, last_grant)
      SELECT ${domain}, floor(t)::bigint, least(${wanted}::int, ${ratePerSecond}::int), least(${wanted}::int, ${ratePerSecond}::int) FROM clock
      ON CONFLICT (domain, slot) DO UPDATE
      SET last_grant = least(${wanted}::int, greatest(${ratePerSecond}::int - send_domain_slots.used, 0)),
          used = send_domain_slots.used + least(${wanted}::int, greatest(${ratePerSecond}::int - send_domain_slots.used, 0))
      RETURNING slot, last_grant
    )
    SELECT slot.last_grant AS granted, ((slot.slot + 1) - clock.t) * 1000 AS ms_left FROM slot, clock
  `.execute(db);
  const row = rows[0];
  return { granted: Number(row?.granted ?? 0), msLeft: Math.max(0, Number(row?.ms_left ?? 1000)) };
}

export function createDomainGate(db: Db, domain: string, ratePerSecond: number): DomainGate {
  const rate = Math.max(1, Math.floor(ratePerSecond));
  const chunk = Math.max(1, Math.ceil(rate / 10));
  let tokens = 0;
  let expiresAt = 0;
  /** No token before this instant: the domain's second is used up. */
  let nextTryAt = 0;
  let reserving: Promise<void> | undefined;
  let calls = 0;
  const refill = async () => {
    const { granted, msLeft } = await reserveDomainTokens(db, domain, chunk, rate);
    if (++calls % 200 === 0) {
      await sql`DELETE FROM send_domain_slots WHERE slot < extract(epoch FROM clock_timestamp()) - 60`.execute(
        db,
      );
    }
    if (granted > 0) {
      tokens = granted;
      expiresAt = Date.now() + msLeft;
    } else {
      nextTryAt = Date.now() + Math.max(5, msLeft);
    }
  };
  const ensure = () => {
    if (reserving || Date.now() < nextTryAt) return;
    reserving = refill()
      .catch(() => {
        // The database will say it again on the worker's next write; try the domain later.
        nextTryAt = Date.now() + 200;
      })
      .finally(() => {
        reserving = undefined;
      });
  };
  return {
    tryTake() {
      if (tokens > 0 && Date.now() < expiresAt) {
        tokens--;
        if (tokens === 0) ensure();
        return true;
      }
      tokens = 0;
      ensure();
      return false;
    },
    async ready() {
      if (reserving) await reserving;
      const wait = nextTryAt - Date.now();
      if (wait > 0) await sleepFor(wait);
    },
  };
}

/** Reserves up to `wanted` tokens of the current second; returns how many and how long the second lasts. */
export async function reserveSendTokens(
  db: Db,
  wanted: number,
  ratePerSecond: number,
): Promise<{ slot: string; granted: number; msLeft: number }> {
  const { rows } = await sql<{ slot: string; granted: number; ms_left: number }>`
    WITH clock AS (SELECT extract(epoch FROM clock_timestamp()) AS t),
    slot AS (
      INSERT INTO send_rate_slots (slot, used, last_grant)
      SELECT floor(t)::bigint, least(${wanted}::int, ${ratePerSecond}::int), least(${wanted}::int, ${ratePerSecond}::int) FROM clock
      ON CONFLICT (slot) DO UPDATE
      SET last_grant = least(${wanted}::int, greatest(${ratePerSecond}::int - send_rate_slots.used, 0)),
          used = send_rate_slots.used + least(${wanted}::int, greatest(${ratePerSecond}::int - send_rate_slots.used, 0))
      RETURNING slot, last_grant
    )
    SELECT slot.slot, slot.last_grant AS granted, ((slot.slot + 1) - clock.t) * 1000 AS ms_left FROM slot, clock
  `.execute(db);
  const row = rows[0];
  return {
    slot: String(row?.slot ?? ''),
    granted: Number(row?.granted ?? 0),
    msLeft: Math.max(0, Number(row?.ms_left ?? 1000)),
  };
}

/**
 * A gate for one worker. `ratePerSecond` of 0 means no limit. Reserves a tenth of a second's budget at
 * a time so several workers share a second fairly.
 */
export function createSendRateGate(db: Db, ratePerSecond: number): SendRateGate {
  if (ratePerSecond <= 0) return unlimited;
  const rate = Math.max(1, Math.floor(ratePerSecond));
  const chunk = Math.max(1, Math.ceil(rate / 10));
  let tokens = 0;
  let expiresAt = 0;
  let reserving: Promise<void> | undefined;
  let calls = 0;
  const refill = async (signal?: AbortSignal) => {
    for (;;) {
      signal?.throwIfAborted();
      const { granted, msLeft } = await reserveSendTokens(db, chunk, rate);
      if (++calls % 200 === 0) {
        await sql`DELETE FROM send_rate_slots WHERE slot < extract(epoch FROM clock_timestamp()) - 60`.execute(
          db,
        );
      }
      if (granted > 0) {
        tokens = granted;
        expiresAt = Date.now() + msLeft;
        return;
      }
      await sleepFor(Math.max(5, msLeft), undefined, { signal });
    }
  };
  return {
    async take(signal) {
      for (;;) {
        if (tokens > 0 && Date.now() < expiresAt) {
          tokens--;
          return;
        }
        tokens = 0;
        reserving ??= refill(signal).finally(() => {
          reserving = undefined;
        });
        await reserving;
      }
    },
  };
}
