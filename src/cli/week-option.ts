import { parseIsoWeek } from '../calendar/iso-week.ts';
import { parseWeek, type Week, weekOf } from '../calendar/week.ts';
import { UserError } from '../errors.ts';

/** The one error of a malformed --week, whichever command it was given to. */
function badWeek(text: string): UserError {
  return new UserError(`--week: expected an ISO week such as 2026-W48 (got "${text}")`);
}

/** Validates a --week before anything is opened, so a typo fails at once. */
export function checkWeekOption(text: string | undefined): void {
  if (text !== undefined && !parseIsoWeek(text)) throw badWeek(text);
}

/**
 * The week a command works on: the --week given, or the current week in RECAP_TZ. Throws a UserError
 * naming the option when the text is not an ISO week.
 */
export function resolveWeek(text: string | undefined, timeZone: string, now: Date = new Date()): Week {
  if (text === undefined) return weekOf(now, timeZone);
  const week = parseWeek(text, timeZone);
  if (!week) throw badWeek(text);
  return week;
}
