import { parseIsoWeek, weekDateRange } from '../calendar/iso-week.ts';
import { parseWeek, type Week } from '../calendar/week.ts';
import { UserError } from '../errors.ts';
import { cronPattern } from '../schedule/schedule-slot.ts';
import { weekTheScheduleActsOn } from '../schedule/schedule-week.ts';

/** The one error of a malformed --week, whichever command it was given to. */
function badWeek(text: string): UserError {
  return new UserError(`--week: expected an ISO week such as 2026-W48 (got "${text}")`);
}

/** Validates a --week before anything is opened, so a typo fails at once. */
export function checkWeekOption(text: string | undefined): void {
  if (text !== undefined && !parseIsoWeek(text)) throw badWeek(text);
}

/** What the default week reads from the configuration: the schedule's cron, its zone and delivery mode. */
export interface WeekSettings {
  timeZone: string;
  cron: string;
  send: { delivery: 'now' | 'local' };
}

/** A command's week and why it is that one (printed by the commands that build, approve or send). */
export interface ResolvedWeek extends Week {
  /** "given with --week", or which of the schedule's fires sends it. */
  readonly why: string;
}

/** The help text of every --week that defaults to the schedule's week. */
export const WEEK_OPTION_HELP = 'ISO week (default: the issue the schedule is sending now or sends next)';

function formatFire(slot: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(slot);
}

/**
 * The week a command works on: the --week given, or the week the schedule acts on now (its latest fire's
 * issue within the catch-up window, else its next fire's; src/schedule/schedule-week.ts), so `issue build`,
 * `issue approve`, `send` and `demo` without --week act on the same issue the schedule would. Throws a
 * UserError naming the option when the text is not an ISO week, or RECAP_CRON when it cannot be read.
 */
export function resolveWeek(
  text: string | undefined,
  settings: WeekSettings,
  now: Date = new Date(),
): ResolvedWeek {
  if (text !== undefined) {
    const week = parseWeek(text, settings.timeZone);
    if (!week) throw badWeek(text);
    return { ...week, why: 'given with --week' };
  }
  let pattern: ReturnType<typeof cronPattern>;
  try {
    pattern = cronPattern(settings.cron, settings.timeZone);
  } catch {
    throw new UserError(
      `RECAP_CRON: "${settings.cron}" is not a valid cron expression (e.g. "0 8 * * 1"); or give --week`,
    );
  }
  const scheduled = weekTheScheduleActsOn({ pattern, now, delivery: settings.send.delivery });
  const week = parseWeek(scheduled.week, settings.timeZone) as Week;
  const fire = scheduled.slot ? formatFire(scheduled.slot, settings.timeZone) : '';
  const why =
    scheduled.which === 'latest'
      ? `sent by the schedule's latest fire, ${fire} ${settings.timeZone}`
      : scheduled.which === 'next'
        ? `the issue the schedule's next fire sends, ${fire} ${settings.timeZone}`
        : 'the current week: RECAP_CRON never fires';
  return { ...week, why };
}

/** "week 2026-W49 (30 Nov–6 Dec 2026): the issue the schedule's next fire sends, Mon 7 Dec, 08:00" */
export function describeWeek(week: ResolvedWeek): string {
  return `week ${week.key} (${weekDateRange(week.iso)}): ${week.why}`;
}
