import {
  actOnRelayReport,
  type BounceDeps,
  type InboundOutcome,
} from '../delivery/bounces/handle-inbound.ts';
import { findDeliveryByRelayMessageId } from '../delivery/delivery.repository.ts';
import { verifyToken } from '../tracking/token.ts';
import type { RelayEvent, WebhookProvider } from './relay-event.ts';
import { forgetWebhookEvent, recordWebhookEvent } from './webhook-event.repository.ts';

export type RelayEventOutcome = InboundOutcome | { kind: 'duplicate'; eventId: string };

/**
 * Acts on the events of a verified webhook request through the same bounce, soft-bounce and complaint
 * logic as DSN and ARF mail. The delivery is found by our return-path token when the provider echoed it,
 * else by the relay's message id; an event naming neither a delivery of ours is dropped (and reported
 * in the outcome, for the log). Each event id acts once: a redelivered event is 'duplicate'. Throws only
 * on database failure, after forgetting the event so the provider's retry is acted on.
 */
export async function actOnRelayEvents(
  deps: BounceDeps,
  provider: WebhookProvider,
  events: readonly RelayEvent[],
): Promise<RelayEventOutcome[]> {
  const outcomes: RelayEventOutcome[] = [];
  for (const event of events) {
    if (!event.report) {
      outcomes.push({
        kind: 'dropped',
        reason: `event ${event.eventId} is neither a bounce nor a complaint`,
      });
      continue;
    }
    const delivery = await deliveryOf(deps, event);
    if (!delivery) {
      outcomes.push({ kind: 'dropped', reason: `event ${event.eventId} names no message we sent` });
      continue;
    }
    if (!(await recordWebhookEvent(deps.db, provider, event.eventId))) {
      outcomes.push({ kind: 'duplicate', eventId: event.eventId });
      continue;
    }
    try {
      outcomes.push(await actOnRelayReport(deps, delivery, event.report));
    } catch (error) {
      await forgetWebhookEvent(deps.db, provider, event.eventId).catch(() => {});
      throw error;
    }
  }
  return outcomes;
}

async function deliveryOf(
  deps: BounceDeps,
  event: RelayEvent,
): Promise<{ subscriberId: string; issueId: number | null } | null> {
  const payload = event.token ? verifyToken(deps.config.secrets, event.token, 'bounce') : null;
  if (payload) return { subscriberId: payload.subscriberId, issueId: payload.issueId ?? null };
  return event.relayMessageId ? findDeliveryByRelayMessageId(deps.db, event.relayMessageId) : null;
}
