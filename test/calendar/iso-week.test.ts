import { describe, expect, it } from 'vitest';
import {
  formatIsoWeek,
  isoWeekOf,
  parseIsoWeek,
  previousIsoWeek,
  weekBounds,
  weekDateRange,
} from '../../src/calendar/iso-week.ts';

describe('ISO weeks', () => {
  it('finds the week of an instant, in a zone', () => {
    expect(formatIsoWeek(isoWeekOf(new Date('2026-11-25T12:00:00Z'), 'UTC'))).toBe('2026-W48');
    // Sunday 23:30 UTC is already Monday in Tokyo.
    expect(formatIsoWeek(isoWeekOf(new Date('2026-11-29T23:30:00Z'), 'UTC'))).toBe('2026-W48');
    expect(formatIsoWeek(isoWeekOf(new Date('2026-11-29T23:30:00Z'), 'Asia/Tokyo'))).toBe('2026-W49');
    expect(formatIsoWeek(isoWeekOf(new Date('2021-01-03T12:00:00Z'), 'UTC'))).toBe('2020-W53');
  });

  it('bounds a week by local midnights, across DST', () => {
    const { start, end } = weekBounds({ year: 2026, week: 48 }, 'UTC');
    expect(start.toISOString()).toBe('2026-11-23T00:00:00.000Z');
    expect(end.toISOString()).toBe('2026-11-30T00:00:00.000Z');
    const berlin = weekBounds({ year: 2026, week: 13 }, 'Europe/Berlin'); // DST starts Sun 29 Mar
    expect(berlin.start.toISOString()).toBe('2026-03-22T23:00:00.000Z');
    expect(berlin.end.toISOString()).toBe('2026-03-29T22:00:00.000Z');
  });

  it('parses only real weeks and steps back across years', () => {
    expect(parseIsoWeek('2026-W48')).toEqual({ year: 2026, week: 48 });
    expect(parseIsoWeek('2025-W53')).toBeNull();
    expect(parseIsoWeek('2026-W53')).toEqual({ year: 2026, week: 53 });
    expect(parseIsoWeek('2020-W53')).toEqual({ year: 2020, week: 53 });
    expect(parseIsoWeek('2026-48')).toBeNull();
    expect(formatIsoWeek(previousIsoWeek({ year: 2021, week: 1 }))).toBe('2020-W53');
    expect(weekDateRange({ year: 2026, week: 48 })).toBe('23–29 Nov 2026');
    expect(weekDateRange({ year: 2026, week: 53 - 4 })).toBe('30 Nov–6 Dec 2026');
  });
});
