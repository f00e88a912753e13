import { describe, expect, it } from 'vitest';
import { cronPattern } from '../../src/schedule/schedule-slot.ts';
import { weekTheScheduleActsOn } from '../../src/schedule/schedule-week.ts';

// The default week of `issue build`, `issue approve`, `send` and `demo`: the issue the schedule acts on.
describe('the week the schedule acts on', () => {
  const monday8 = cronPattern('0 8 * * 1', 'Europe/Berlin');
  const at = (iso: string, pattern = monday8) => weekTheScheduleActsOn({ pattern, now: new Date(iso) });

  it("is the next fire's issue before it, the fire's own during the catch-up window, then the next one's", () => {
    // Monday 7 Dec 2026, 03:00 in Berlin: the 08:00 fire will send the week that just ended.
    expect(at('2026-12-07T02:00:00Z')).toMatchObject({ week: '2026-W49', which: 'next' });
    expect(at('2026-12-07T02:00:00Z').slot?.toISOString()).toBe('2026-12-07T07:00:00.000Z');
    // After the fire, for the 24 h catch-up window: still that issue (sending, or caught up).
    expect(at('2026-12-07T07:00:00Z')).toMatchObject({ week: '2026-W49', which: 'latest' });
    expect(at('2026-12-08T06:59:00Z')).toMatchObject({ week: '2026-W49', which: 'latest' });
    // Then the week under way, which the next Monday's fire sends.
    expect(at('2026-12-08T07:01:00Z')).toMatchObject({ week: '2026-W50', which: 'next' });
    expect(at('2026-12-13T22:00:00Z')).toMatchObject({ week: '2026-W50', which: 'next' });
  });

  it('follows the same rule as the schedule for a Sunday fire and for local-time delivery', () => {
    const sunday = cronPattern('0 18 * * 0', 'UTC');
    // A Sunday fire sends the week that ended before it (the schedule's weekForSlot)...
    expect(at('2026-12-06T12:00:00Z', sunday)).toMatchObject({ week: '2026-W48', which: 'next' });
    // ...unless delivery is local: then the week that ends by the next day.
    expect(
      weekTheScheduleActsOn({ pattern: sunday, now: new Date('2026-12-06T12:00:00Z'), delivery: 'local' }),
    ).toMatchObject({ week: '2026-W49' });
  });
});
