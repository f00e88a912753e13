import { signToken, type TokenSecrets } from './token.ts';

/**
 * A subscriber id no row ever has (ids start at 1): a signed unsubscribe token for it lets `recap doctor`
 * check that one-click unsubscribe answers, without unsubscribing anyone. Only holders of RECAP_SECRET can
 * sign one, and it names no one: the endpoint answers it before looking at the database.
 */
export const PROBE_SUBSCRIBER_ID = '0';

/** The unsubscribe token of the probe subscriber. */
export function signProbeToken(secrets: TokenSecrets): string {
  return signToken(secrets, { kind: 'unsubscribe', subscriberId: PROBE_SUBSCRIBER_ID });
}

/**
 * Headers of the answer to a probe: the client address the server derived (TRUST_PROXY applied), the
 * address of the peer that connected, and the X-Forwarded-For chain it received.
 */
export const PROBE_HEADERS = {
  client: 'x-recap-probe-client',
  peer: 'x-recap-probe-peer',
  forwarded: 'x-recap-probe-forwarded-for',
} as const;
