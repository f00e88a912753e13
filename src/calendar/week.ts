import { formatIsoWeek, type IsoWeek, isoWeekOf, parseIsoWeek, weekBounds } from './iso-week.ts';

/**
 * One ISO week of the recap, parsed and validated once where it enters (a CLI option, a URL): its key
 * ("2026-W48", what the issues table stores), its year and number, the time zone it is read in, and its
 * bounds in that zone (Monday 00:00 inclusive to the next Monday 00:00 exclusive).
 */
export interface Week {
  readonly key: string;
  readonly iso: IsoWeek;
  readonly timeZone: string;
  readonly start: Date;
  readonly end: Date;
}

function weekFrom(iso: IsoWeek, timeZone: string): Week {
  const { start, end } = weekBounds(iso, timeZone);
  return Object.freeze({ key: formatIsoWeek(iso), iso: Object.freeze({ ...iso }), timeZone, start, end });
}

/** The week a text names ("2026-W48"), or null when it is not a valid ISO week. */
export function parseWeek(text: string, timeZone: string): Week | null {
  const iso = parseIsoWeek(text);
  return iso ? weekFrom(iso, timeZone) : null;
}

/** The week an instant falls in, in a time zone. */
export function weekOf(instant: Date, timeZone: string): Week {
  return weekFrom(isoWeekOf(instant, timeZone), timeZone);
}
