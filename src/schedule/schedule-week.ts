import { formatIsoWeek, isoWeekOf } from '../calendar/iso-week.ts';
import { localTimeWeek } from '../delivery/local-time.ts';
import { type CronPattern, latestSlot, nextSlot, weekForSlot } from './schedule-slot.ts';

/** How late a missed fire is still caught up, unless `recap schedule --catch-up-hours` says otherwise. */
export const DEFAULT_CATCH_UP_HOURS = 24;

/** The issue a fire at `slot` sends: the week that ended by then (by the next day for local-time delivery). */
export function slotWeek(slot: Date, timeZone: string, delivery: 'now' | 'local' = 'now'): string {
  return delivery === 'local' ? localTimeWeek(slot, timeZone) : weekForSlot(slot, timeZone);
}

export interface ScheduledWeek {
  /** The ISO week key ("2026-W49"). */
  week: string;
  /** The fire whose issue it is; null when RECAP_CRON never fires within a year. */
  slot: Date | null;
  /** 'latest': the fire that just happened (within the catch-up window); 'next': the coming fire. */
  which: 'latest' | 'next' | 'none';
}

const YEAR_MS = 366 * 24 * 3_600_000;

/**
 * The week the schedule acts on at `now`: the issue of the latest fire while that fire is within the
 * catch-up window (the schedule is sending it, or would catch it up), else the issue of the next fire.
 * With RECAP_CRON "0 8 * * 1" that is last week's issue from Monday 08:00 to Tuesday 08:00 and on Monday
 * before 08:00, and the current week's otherwise. The default week of `issue build`, `issue approve`,
 * `send` and `demo`, so build, approve and send act on one week. Pure.
 */
export function weekTheScheduleActsOn(input: {
  pattern: CronPattern;
  now: Date;
  delivery?: 'now' | 'local';
  catchUpWindowMs?: number;
}): ScheduledWeek {
  const { pattern, now } = input;
  const window = input.catchUpWindowMs ?? DEFAULT_CATCH_UP_HOURS * 3_600_000;
  const latest = latestSlot(pattern, now, new Date(now.getTime() - window));
  if (latest)
    return { week: slotWeek(latest, pattern.timeZone, input.delivery), slot: latest, which: 'latest' };
  const next = nextSlot(pattern, now, new Date(now.getTime() + YEAR_MS));
  if (next) return { week: slotWeek(next, pattern.timeZone, input.delivery), slot: next, which: 'next' };
  return { week: formatIsoWeek(isoWeekOf(now, pattern.timeZone)), slot: null, which: 'none' };
}

/** When the schedule sends a week's issue, as seen at `now`. */
export type WeekSendTime =
  /** The fire that sends it is still to come. */
  | { kind: 'next'; slot: Date }
  /** Its fire happened within the catch-up window: the schedule's next check sends it. */
  | { kind: 'catching-up'; slot: Date }
  /** No fire within the search horizon (a past week, or a cron that never sends it). */
  | { kind: 'none' };

/**
 * The schedule fire that sends `week`'s issue: the latest fire within the catch-up window whose week it
 * is, else the first coming fire whose week it is (searched up to `horizonDays`, default 60). Pure.
 */
export function sendTimeOfWeek(input: {
  pattern: CronPattern;
  week: string;
  now: Date;
  delivery?: 'now' | 'local';
  catchUpWindowMs?: number;
  horizonDays?: number;
}): WeekSendTime {
  const { pattern, week, now } = input;
  const window = input.catchUpWindowMs ?? DEFAULT_CATCH_UP_HOURS * 3_600_000;
  const latest = latestSlot(pattern, now, new Date(now.getTime() - window));
  if (latest && slotWeek(latest, pattern.timeZone, input.delivery) === week)
    return { kind: 'catching-up', slot: latest };
  const until = new Date(now.getTime() + (input.horizonDays ?? 60) * 86_400_000);
  let after = now;
  for (let fires = 0; fires < 500; fires++) {
    const next = nextSlot(pattern, after, until);
    if (!next) break;
    const nextWeek = slotWeek(next, pattern.timeZone, input.delivery);
    if (nextWeek === week) return { kind: 'next', slot: next };
    if (nextWeek > week) break;
    after = next;
  }
  return { kind: 'none' };
}
