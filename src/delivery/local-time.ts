import { parseIsoWeek, weekBounds } from '../calendar/iso-week.ts';
import { weekForSlot } from '../schedule/schedule-slot.ts';

/**
 * Local-time delivery (RECAP_DELIVERY=local). The rules, in one place:
 *
 * - The issue of ISO week W is delivered on the rollout day: the Monday right after W, at RECAP_LOCAL_TIME in
 *   each subscriber's own zone (subscriber time_zone, else RECAP_TZ). The first readers (UTC+14) get it on
 *   Sunday 18:00 UTC, while W is still under way in RECAP_TZ (Europe: until Sunday 23:00 or 22:00 UTC); the
 *   last (UTC−12) on Monday 20:00 UTC: a rollout of 26 hours.
 * - So everyone gets it on time, the audience is frozen (the issue approved and sent) before Sunday
 *   18:00 UTC. A later freeze is a late fire: rows whose time has passed are due at once, the others wait.
 * - The schedule's fire picks the week that will have ended by the next day: a Sunday fire sends the week
 *   that is ending, a Monday fire the week that just ended (as without local time).
 */

/** YYYY-MM-DD: the day a local-time send of `week` reaches every subscriber (the Monday after it). */
export function rolloutDay(week: string): string {
  const parsed = parseIsoWeek(week);
  if (!parsed) throw new Error(`not an ISO week: ${week}`);
  return weekBounds(parsed, 'UTC').end.toISOString().slice(0, 10);
}

/** The ISO week a scheduled local-time fire at `slot` sends: the last one ended by the next day in `timeZone`. */
export function localTimeWeek(slot: Date, timeZone: string): string {
  return weekForSlot(new Date(slot.getTime() + 24 * 3_600_000), timeZone);
}
