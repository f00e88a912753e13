import { type AlertContext, raiseAlert } from './raise-alert.ts';

/**
 * For story ingestion: a source failed to fetch or parse. Alerts at most once per source per UTC day
 * while it keeps failing, so a source down for a week sends seven lines, not one per poll.
 * Never throws; returns whether this call sent the alert.
 */
export async function alertSourceFailing(
  context: AlertContext,
  input: { source: string; error: string; now?: Date },
): Promise<boolean> {
  const now = input.now ?? (context.now ?? (() => new Date()))();
  const day = now.toISOString().slice(0, 10);
  return raiseAlert(context, {
    kind: 'source-failing',
    cause: `${input.source}@${day}`,
    subject: `Story source ${input.source} is failing`,
    lines: [`Error: ${input.error}`, `Stories from ${input.source} are missing until it recovers.`],
    details: { source: input.source, error: input.error, day },
  });
}
