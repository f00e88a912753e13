import cron from 'node-cron';
import { formatIsoWeek, isoWeekOf, previousIsoWeek } from '../calendar/iso-week.ts';

/** A cron expression in a time zone, reduced to what the schedule needs: does an instant match, at which seconds. */
export interface CronPattern {
  expression: string;
  timeZone: string;
  matches(instant: Date): boolean;
  /** The seconds a slot can fall on (0 for five-field expressions), descending. */
  seconds: number[];
  /** Allowed local minutes, hours and months: a cheap filter before the full match. */
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  months: ReadonlySet<number>;
  /** Offset of the zone from UTC at an instant, in milliseconds. */
  offsetAt(ms: number): number;
}

/** Parses a cron expression (node-cron 4 syntax) in a time zone. Throws with the expression when invalid. */
export function cronPattern(expression: string, timeZone: string): CronPattern {
  if (!cron.validate(expression)) throw new Error(`invalid cron expression "${expression}"`);
  // A task that is never started is only a matcher: node-cron's own reading of the expression and zone.
  const matcher = cron.createTask(expression, () => {}, { timezone: timeZone });
  const fields = cron.parse(expression);
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  });
  const offsetAt = (ms: number) => {
    const parts = Object.fromEntries(
      format.formatToParts(new Date(ms)).map((p) => [p.type, Number(p.value)]),
    );
    const civil = Date.UTC(parts.year ?? 0, (parts.month ?? 1) - 1, parts.day, parts.hour, parts.minute);
    return civil - (ms - (ms % 60_000));
  };
  return {
    expression,
    timeZone,
    matches: (instant) => matcher.match(instant),
    seconds: [...fields.second].sort((a, b) => b - a),
    minutes: new Set(fields.minute),
    hours: new Set(fields.hour),
    months: new Set(fields.month),
    offsetAt,
  };
}

/**
 * A cheap test of a minute (its start in ms) against the pattern's local minutes, hours and months, before
 * the full match. The zone's offset is read once per UTC hour (per minute only across a change), so a week's
 * search costs a few hundred conversions instead of ten thousand.
 */
function minuteFilter(pattern: CronPattern): (start: number) => boolean {
  let blockHour = Number.NaN;
  let blockOffset: number | null = null;
  return (start) => {
    const hourStart = start - (start % 3_600_000);
    if (hourStart !== blockHour) {
      blockHour = hourStart;
      const first = pattern.offsetAt(hourStart);
      blockOffset = first === pattern.offsetAt(hourStart + 3_540_000) ? first : null;
    }
    const local = new Date(start + (blockOffset ?? pattern.offsetAt(start)));
    return (
      pattern.minutes.has(local.getUTCMinutes()) &&
      pattern.hours.has(local.getUTCHours()) &&
      pattern.months.has(local.getUTCMonth() + 1)
    );
  };
}

/**
 * The latest instant in (since, now] the pattern fires at, or null. The slot is the scheduled instant,
 * not the moment a process noticed it, so every process computes the same key for the same fire.
 */
export function latestSlot(pattern: CronPattern, now: Date, since: Date): Date | null {
  const nowMs = now.getTime();
  const minute = nowMs - (nowMs % 60_000);
  const mayMatch = minuteFilter(pattern);
  for (let start = minute; start > since.getTime() - 60_000; start -= 60_000) {
    if (!mayMatch(start)) continue;
    for (const second of pattern.seconds) {
      const candidate = start + second * 1000;
      if (candidate > nowMs || candidate <= since.getTime()) continue;
      const instant = new Date(candidate);
      if (pattern.matches(instant)) return instant;
    }
  }
  return null;
}

/** The first instant in (after, until] the pattern fires at, or null. */
export function nextSlot(pattern: CronPattern, after: Date, until: Date): Date | null {
  const afterMs = after.getTime();
  const mayMatch = minuteFilter(pattern);
  const ascending = [...pattern.seconds].reverse();
  for (let start = afterMs - (afterMs % 60_000); start <= until.getTime(); start += 60_000) {
    if (!mayMatch(start)) continue;
    for (const second of ascending) {
      const candidate = start + second * 1000;
      if (candidate <= afterMs || candidate > until.getTime()) continue;
      const instant = new Date(candidate);
      if (pattern.matches(instant)) return instant;
    }
  }
  return null;
}

/**
 * The issue a slot sends: the last ISO week that has fully ended at the slot, in the schedule's zone.
 * A Monday 08:00 fire sends the week that ended at Monday 00:00; so does a Sunday evening fire of the next week.
 */
export function weekForSlot(slot: Date, timeZone: string): string {
  return formatIsoWeek(previousIsoWeek(isoWeekOf(slot, timeZone)));
}
