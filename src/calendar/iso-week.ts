/** ISO 8601 weeks ("2026-W48"): Monday to Sunday, week 1 holds the year's first Thursday. */

export interface IsoWeek {
  year: number;
  week: number;
}

const weekPattern = /^(\d{4})-W(\d{2})$/;

export function parseIsoWeek(text: string): IsoWeek | null {
  const match = weekPattern.exec(text);
  if (!match) return null;
  const year = Number(match[1]);
  const week = Number(match[2]);
  if (week < 1 || week > weeksInYear(year)) return null;
  return { year, week };
}

export function formatIsoWeek({ year, week }: IsoWeek): string {
  return `${year}-W${String(week).padStart(2, '0')}`;
}

function weeksInYear(year: number): number {
  // A year has 53 weeks when Dec 28 falls in week 53.
  return isoWeekOfCivilDate(year, 12, 28).week;
}

/** The ISO week of a civil (calendar) date. */
export function isoWeekOfCivilDate(year: number, month: number, day: number): IsoWeek {
  const date = new Date(Date.UTC(year, month - 1, day));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday);
  const weekYear = date.getUTCFullYear();
  const yearStart = Date.UTC(weekYear, 0, 1);
  return { year: weekYear, week: Math.ceil(((date.getTime() - yearStart) / 86_400_000 + 1) / 7) };
}

/** Civil date parts of an instant as seen in a time zone. */
function civilParts(instant: Date, timeZone: string) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
    hourCycle: 'h23',
  }).formatToParts(instant);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    second: get('second'),
  };
}

/** The ISO week an instant falls in, in a time zone. */
export function isoWeekOf(instant: Date, timeZone: string): IsoWeek {
  const { year, month, day } = civilParts(instant, timeZone);
  return isoWeekOfCivilDate(year, month, day);
}

/** The instant of a civil date-time in a time zone (handles DST by correcting the offset twice). */
function zonedInstant(year: number, month: number, day: number, timeZone: string): Date {
  const guess = Date.UTC(year, month - 1, day);
  let instant = guess;
  for (let i = 0; i < 2; i++) {
    const p = civilParts(new Date(instant), timeZone);
    const seen = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
    instant += guess - seen;
  }
  return new Date(instant);
}

/** Monday of week 1 as a civil date (UTC-based arithmetic on civil dates). */
function mondayOf({ year, week }: IsoWeek): Date {
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const monday = new Date(jan4);
  monday.setUTCDate(jan4.getUTCDate() - ((jan4.getUTCDay() || 7) - 1) + (week - 1) * 7);
  return monday;
}

/** The week's bounds as instants: Monday 00:00 in the zone, inclusive, to next Monday 00:00, exclusive. */
export function weekBounds(week: IsoWeek, timeZone: string): { start: Date; end: Date } {
  const monday = mondayOf(week);
  const next = new Date(monday);
  next.setUTCDate(monday.getUTCDate() + 7);
  return {
    start: zonedInstant(monday.getUTCFullYear(), monday.getUTCMonth() + 1, monday.getUTCDate(), timeZone),
    end: zonedInstant(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), timeZone),
  };
}

export function previousIsoWeek(week: IsoWeek): IsoWeek {
  const monday = mondayOf(week);
  monday.setUTCDate(monday.getUTCDate() - 7);
  return isoWeekOfCivilDate(monday.getUTCFullYear(), monday.getUTCMonth() + 1, monday.getUTCDate());
}

/** "17–23 Nov 2026" for the masthead; civil dates, so no zone needed. */
export function weekDateRange(week: IsoWeek): string {
  const monday = mondayOf(week);
  const sunday = new Date(monday);
  sunday.setUTCDate(monday.getUTCDate() + 6);
  const month = (d: Date) => d.toLocaleString('en-GB', { month: 'short', timeZone: 'UTC' });
  const sameMonth = monday.getUTCMonth() === sunday.getUTCMonth();
  const sameYear = monday.getUTCFullYear() === sunday.getUTCFullYear();
  const from = `${monday.getUTCDate()}${sameMonth ? '' : ` ${month(monday)}`}${sameYear ? '' : ` ${monday.getUTCFullYear()}`}`;
  return `${from}–${sunday.getUTCDate()} ${month(sunday)} ${sunday.getUTCFullYear()}`;
}

/** The civil day of an instant in a time zone, "2026-11-29". */
export function civilDayOf(instant: Date, timeZone: string): string {
  const { year, month, day } = civilParts(instant, timeZone);
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}
