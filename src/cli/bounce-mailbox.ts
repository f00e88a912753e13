import type { InboundOutcome } from '../delivery/bounces/handle-inbound.ts';
import type { BounceMailboxPoller } from '../delivery/bounces/poll-bounce-mailbox.ts';
import type { App } from './app.ts';
import type { Logger } from './service-logger.ts';

/**
 * Starts polling BOUNCE_IMAP_URL every BOUNCE_IMAP_POLL_SECONDS for `recap serve` and `recap schedule`;
 * undefined when it is unset. Several processes may poll one mailbox: each message is acted on once.
 */
export async function startBounceMailbox(
  app: App,
  logger: Logger,
  onOutcome?: (outcomes: InboundOutcome[]) => void,
): Promise<BounceMailboxPoller | undefined> {
  const settings = app.config.bounceMailbox;
  if (!settings) return undefined;
  const { imapBounceMailbox } = await import('./imap-bounce-mailbox.ts');
  const { startBounceMailboxPoller } = await import('../delivery/bounces/poll-bounce-mailbox.ts');
  const { scheduleOwner } = await import('../schedule/schedule-runner.ts');
  const child = logger.child({ component: 'bounce-mailbox' });
  const log = (line: string) => child.warn(line);
  child.info(`polling bounce mailbox ${settings.label} every ${settings.pollMs / 1000} s`);
  return startBounceMailboxPoller(app, imapBounceMailbox(settings, log), {
    owner: scheduleOwner(),
    intervalMs: settings.pollMs,
    log,
    ...(onOutcome ? { onOutcome } : {}),
  });
}
