import { cronPattern } from '../../schedule/schedule-slot.ts';
import { sendTimeOfWeek } from '../../schedule/schedule-week.ts';
import type { WebDeps } from '../web-context.ts';
import { formatFireTime, type GoesOut } from './approval-section.ts';

/** When the schedule sends the week's issue, in words for the Approve button and the notices. */
export function goesOutOf(
  config: Pick<WebDeps['config'], 'cron' | 'timeZone' | 'send'>,
  week: string,
  now: Date,
): GoesOut {
  let pattern: ReturnType<typeof cronPattern>;
  try {
    pattern = cronPattern(config.cron, config.timeZone);
  } catch {
    return { text: `will not go out by the schedule (RECAP_CRON "${config.cron}" is not valid)` };
  }
  const time = sendTimeOfWeek({ pattern, week, now, delivery: config.send.delivery });
  if (time.kind === 'next') return { text: `goes out ${formatFireTime(time.slot, now, config.timeZone)}` };
  if (time.kind === 'catching-up')
    return {
      text: `goes out at the schedule's next check (its fire of ${formatFireTime(time.slot, now, config.timeZone)})`,
    };
  return { text: 'goes out only when sent from here or with recap send (no schedule fire sends this week)' };
}
