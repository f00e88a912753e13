import { describe, expect, it } from 'vitest';
import { timelineDateInWeek } from '../../src/selection/timeline-in-week.ts';

const w48 = { year: 2026, week: 48 };

describe('timeline dates inside a week', () => {
  it('counts only day-precise dates', () => {
    expect(timelineDateInWeek('2026-11-23', w48, 'UTC')).toBe(true);
    expect(timelineDateInWeek('2026-11-29', w48, 'UTC')).toBe(true);
    expect(timelineDateInWeek('2026-11-30', w48, 'UTC')).toBe(false);
    expect(timelineDateInWeek('2026-11', w48, 'UTC')).toBe(false);
    expect(timelineDateInWeek('2026', w48, 'UTC')).toBe(false);
    expect(timelineDateInWeek('2026-11-31', w48, 'UTC')).toBe(false);
    expect(timelineDateInWeek('soon', w48, 'UTC')).toBe(false);
  });

  it('places a full date-time in the time zone of the week', () => {
    expect(timelineDateInWeek('2026-11-29T23:30:00Z', w48, 'UTC')).toBe(true);
    expect(timelineDateInWeek('2026-11-29T23:30:00Z', w48, 'Asia/Tokyo')).toBe(false);
    expect(timelineDateInWeek('2026-11-22T23:30:00Z', w48, 'Europe/Berlin')).toBe(true);
  });
});
