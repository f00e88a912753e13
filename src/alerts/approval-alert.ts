import { type CronPattern, latestSlot, weekForSlot } from '../schedule/schedule-slot.ts';
import { type AlertContext, alertsEnabled, raiseAlert } from './raise-alert.ts';

/** How long before a scheduled fire an unapproved issue is reported. */
export const APPROVAL_ALERT_LEAD_MS = 3_600_000;

/**
 * When REQUIRE_APPROVAL is on and the schedule fires within the next hour, alerts once per fire if that
 * fire's issue is not built or still a draft. Safe to call at every schedule check; `now` is injected.
 * Never throws; returns whether this call sent the alert.
 */
export async function alertIfUnapprovedBeforeFire(
  context: AlertContext,
  input: { pattern: CronPattern; now: Date; requireApproval: boolean; leadMs?: number },
): Promise<boolean> {
  if (!input.requireApproval || !alertsEnabled(context.config)) return false;
  try {
    const leadMs = input.leadMs ?? APPROVAL_ALERT_LEAD_MS;
    const slot = latestSlot(input.pattern, new Date(input.now.getTime() + leadMs), input.now);
    if (!slot) return false;
    const week = weekForSlot(slot, input.pattern.timeZone);
    const issue = await context.db
      .selectFrom('issues')
      .select(['status', 'built_at'])
      .where('week', '=', week)
      .executeTakeFirst();
    const built = issue !== undefined && issue.built_at !== null;
    if (built && issue.status !== 'draft') return false;
    const minutes = Math.max(1, Math.round((slot.getTime() - input.now.getTime()) / 60_000));
    return await raiseAlert(context, {
      kind: 'approval-missing',
      cause: `${week}@${slot.toISOString()}`,
      subject: `Issue ${week} is not approved and the send is due in ${minutes} min`,
      lines: [
        `The schedule fires at ${slot.toISOString()} (RECAP_CRON in ${input.pattern.timeZone}).`,
        built
          ? `The issue is still a draft: approve it in the editor or with "recap issue approve --week ${week}".`
          : 'The issue is not built yet: the schedule builds it at the fire, then waits for approval.',
        'Until it is approved, REQUIRE_APPROVAL keeps the schedule waiting.',
      ],
      details: { week, fireAt: slot.toISOString(), status: built ? issue.status : 'not built' },
    });
  } catch (error) {
    const log = context.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    log(`alert approval-missing not sent: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
}
