import type { Mailer, OutgoingMessage, SendResult } from './mailer.ts';

type Failure = Extract<SendResult, { ok: false }>;

/** One relay of several: its own mailer (its own pool of connections), its share and its name. */
export interface WeightedRelay {
  /** host:port (see parseRelayUrls); what the deliveries' per-relay counts name. */
  name: string;
  /** Relative share of messages while every relay is up: 3 and 1 give 75 % and 25 %. */
  weight: number;
  mailer: Mailer;
}

export interface RelayPoolOptions {
  /** First time out of a relay that failed at connection level; doubles while it keeps failing. Default 5 s. */
  firstBackoffMs?: number;
  /** Longest time out; default 60 s. */
  maxBackoffMs?: number;
  /** Where taking a relay out and back in is told; default silent. */
  log?: (line: string) => void;
  /** A number in [0, 1); default Math.random (tests pass a seeded one). */
  random?: () => number;
}

interface RelayState {
  relay: WeightedRelay;
  /** Out (no message) until this instant, ms; 0 while in. */
  outUntil: number;
  step: number;
  /** The last connection-level failure, while out. */
  cause: Failure | null;
}

/**
 * Several relays behind one Mailer. Each message goes to a relay chosen by weight among those in. A
 * relay that fails at connection level (refused, timed out, TLS, authentication, 421 at the greeting:
 * `relay` or `fatal` answers of classifySmtpError) is taken out for a back-off (doubling, capped) and the
 * same message, unchanged (same Message-ID), goes to another relay at once: the reader is not to blame.
 * Only when every relay is out does the answer say so, as `relay` (transient) or, when every one of
 * them refused our credentials or TLS, `fatal`; the send engine then waits as it does for one relay.
 * Answers about the recipient (4xx, 5xx) come back as the relay gave them. A relay whose back-off ended
 * is tried again with the next message. Successful answers name the relay. Never throws.
 */
export function createRelayPoolMailer(
  relays: readonly WeightedRelay[],
  options: RelayPoolOptions = {},
): Mailer {
  if (relays.length === 0) throw new Error('a relay pool needs at least one relay');
  const first = options.firstBackoffMs ?? 5000;
  const cap = options.maxBackoffMs ?? 60_000;
  const random = options.random ?? Math.random;
  const states: RelayState[] = relays.map((relay) => ({ relay, outUntil: 0, step: 0, cause: null }));

  const pick = (tried: ReadonlySet<RelayState>, now: number): RelayState | undefined => {
    const open = states.filter((s) => !tried.has(s) && s.outUntil <= now);
    const total = open.reduce((sum, s) => sum + s.relay.weight, 0);
    let point = random() * total;
    for (const state of open) {
      point -= state.relay.weight;
      if (point < 0) return state;
    }
    return open.at(-1);
  };

  const takeOut = (state: RelayState, failure: Failure): void => {
    const now = Date.now();
    state.cause = failure;
    // Messages in flight when it went down all fail together: they share one back-off.
    if (state.outUntil > now) return;
    state.step = Math.min(cap, state.step > 0 ? state.step * 2 : first);
    state.outUntil = now + state.step;
    options.log?.(
      `relay ${state.relay.name} taken out for ${Math.round(state.step / 1000)} s: ${failure.message}`,
    );
  };

  const putBack = (state: RelayState): void => {
    if (state.step === 0) return;
    options.log?.(`relay ${state.relay.name} carries mail again`);
    state.step = 0;
    state.outUntil = 0;
    state.cause = null;
  };

  return {
    async send(message: OutgoingMessage): Promise<SendResult> {
      const tried = new Set<RelayState>();
      for (;;) {
        const state = pick(tried, Date.now());
        if (!state) break;
        tried.add(state);
        const result = await state.relay.mailer.send(message);
        if (result.ok) {
          putBack(state);
          return { ...result, relay: state.relay.name };
        }
        if (result.relay || result.kind === 'fatal') {
          takeOut(state, result);
          continue;
        }
        return result;
      }
      const out = states.filter((s) => s.cause !== null);
      const causes = out.map((s) => `${s.relay.name}: ${s.cause?.message}`).join('; ');
      const why = `every relay is out (${causes || 'no relay answered'})`;
      if (out.length === states.length && out.every((s) => s.cause?.kind === 'fatal'))
        return { ok: false, kind: 'fatal', message: why };
      return { ok: false, kind: 'transient', message: why, relay: true };
    },
    async close() {
      await Promise.all(relays.map((relay) => relay.mailer.close()));
    },
  };
}
