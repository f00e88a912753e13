import { type IsoWeek, isoWeekOf, isoWeekOfCivilDate } from '../calendar/iso-week.ts';
import type { Story } from '../stories/story.ts';

const dayPattern = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Whether a timeline date lies inside an ISO week in a time zone. Only day-precise dates count:
 * '2026-11' could be any day of the month, so it is never "this week". A bare day is a civil date;
 * a full date-time is an instant placed in the zone. Unparseable dates are never inside.
 */
export function timelineDateInWeek(date: string, week: IsoWeek, timeZone: string): boolean {
  const trimmed = date.trim();
  const day = dayPattern.exec(trimmed);
  if (day) {
    const [year, month, dom] = [Number(day[1]), Number(day[2]), Number(day[3])];
    const check = new Date(Date.UTC(year, month - 1, dom));
    if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== dom) return false;
    return sameWeek(isoWeekOfCivilDate(year, month, dom), week);
  }
  if (!/^\d{4}-\d{2}-\d{2}T/.test(trimmed)) return false;
  const instant = new Date(trimmed);
  if (Number.isNaN(instant.getTime())) return false;
  return sameWeek(isoWeekOf(instant, timeZone), week);
}

/** The first timeline event of a story dated inside the week, if any. */
export function timelineEventInWeek(story: Pick<Story, 'timeline'>, week: IsoWeek, timeZone: string) {
  return story.timeline.find((event) => timelineDateInWeek(event.date, week, timeZone)) ?? null;
}

function sameWeek(a: IsoWeek, b: IsoWeek): boolean {
  return a.year === b.year && a.week === b.week;
}
