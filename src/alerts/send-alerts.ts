import { deliveryCounts } from '../delivery/delivery.repository.ts';
import { type AlertContext, alertsEnabled, raiseAlert } from './raise-alert.ts';

interface IssueRef {
  id: number;
  week: string;
}

/**
 * A send paused itself (too many consecutive failures, a fatal SMTP error, the deliverability guard).
 * Once per issue and reason: a send resumed and paused again for another reason alerts again. Never throws.
 */
export async function alertSendPaused(context: AlertContext, issue: IssueRef, reason: string): Promise<void> {
  if (!alertsEnabled(context.config)) return;
  try {
    const counts = await deliveryCounts(context.db, issue.id);
    await raiseAlert(context, {
      kind: 'send-paused',
      cause: `${issue.week}: ${reason}`,
      subject: `The send of ${issue.week} paused itself`,
      lines: [
        `Reason: ${reason}`,
        `So far: ${counts.sent} sent, ${counts.failed} failed, ${counts.bounced} bounced, ${counts.queued} still queued.`,
        `Fix the cause, then run "recap send resume --week ${issue.week}".`,
      ],
      details: { week: issue.week, issueId: issue.id, reason, counts: numbers(counts) },
    });
  } catch (error) {
    logFailure(context, 'send-paused', error);
  }
}

/**
 * The SMTP relay could not be reached for a while (refused, timed out, TLS): the send is not paused, it
 * keeps trying; this tells an operator. Once per issue and outage start. Never throws.
 */
export async function alertRelayUnreachable(
  context: AlertContext,
  issue: IssueRef,
  outage: { since: Date; cause: string },
): Promise<void> {
  if (!alertsEnabled(context.config)) return;
  try {
    const minutes = Math.max(1, Math.round((Date.now() - outage.since.getTime()) / 60_000));
    await raiseAlert(context, {
      kind: 'relay-unreachable',
      cause: `${issue.week}: ${outage.since.toISOString()}`,
      subject: `The send of ${issue.week} cannot reach the SMTP relay`,
      lines: [
        `The relay has not answered for ${minutes} min: ${outage.cause}`,
        'The send is not paused: it keeps trying, and goes on by itself once the relay answers.',
        'Check SMTP_URL, the relay and the network between them.',
      ],
      details: {
        week: issue.week,
        issueId: issue.id,
        since: outage.since.toISOString(),
        cause: outage.cause,
      },
    });
  } catch (error) {
    logFailure(context, 'relay-unreachable', error);
  }
}

/** A send finished: every delivery is sent, failed, bounced, skipped or cancelled. Once per issue. Never throws. */
export async function alertSendFinished(context: AlertContext, issue: IssueRef): Promise<void> {
  if (!alertsEnabled(context.config)) return;
  try {
    const counts = await deliveryCounts(context.db, issue.id);
    const row = await context.db
      .selectFrom('issues')
      .select(['send_started_at', 'send_finished_at'])
      .where('id', '=', issue.id)
      .executeTakeFirst();
    const seconds =
      row?.send_started_at && row.send_finished_at
        ? Math.round((row.send_finished_at.getTime() - row.send_started_at.getTime()) / 1000)
        : null;
    await raiseAlert(context, {
      kind: 'send-finished',
      cause: issue.week,
      subject: `The send of ${issue.week} finished: ${counts.sent} sent`,
      lines: [
        `${counts.sent} sent, ${counts.failed} failed, ${counts.bounced} bounced, ${counts.skipped} skipped, ${counts.cancelled} cancelled.`,
        ...(seconds === null ? [] : [`Took ${formatSeconds(seconds)}.`]),
      ],
      details: { week: issue.week, issueId: issue.id, counts: numbers(counts), durationSeconds: seconds },
    });
  } catch (error) {
    logFailure(context, 'send-finished', error);
  }
}

function numbers(counts: Awaited<ReturnType<typeof deliveryCounts>>) {
  const { queued, sent, failed, bounced, skipped, cancelled, failedBy } = counts;
  return { queued, sent, failed, bounced, skipped, cancelled, failedBy };
}

function formatSeconds(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 360) / 10} h`;
}

function logFailure(context: AlertContext, kind: string, error: unknown): void {
  const log = context.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  log(`alert ${kind} not sent: ${error instanceof Error ? error.message : String(error)}`);
}
