import { describe, expect, it } from 'vitest';
import { canTakeOver, decideIssueAction, decideSlot } from '../../src/schedule/schedule-decision.ts';
import { cronPattern, latestSlot, weekForSlot } from '../../src/schedule/schedule-slot.ts';

const hour = 3_600_000;

describe('slots', () => {
  it('finds the latest Monday 08:00 in the schedule zone, as the scheduled instant', () => {
    const pattern = cronPattern('0 8 * * 1', 'Europe/Berlin');
    const now = new Date('2026-11-25T10:17:42Z'); // Wednesday
    const slot = latestSlot(pattern, now, new Date(now.getTime() - 8 * 24 * hour));
    expect(slot?.toISOString()).toBe('2026-11-23T07:00:00.000Z'); // 08:00 CET
    expect(
      latestSlot(pattern, new Date('2026-11-23T07:00:00Z'), new Date('2026-11-22T00:00:00Z'))?.toISOString(),
    ).toBe('2026-11-23T07:00:00.000Z');
    expect(
      latestSlot(pattern, new Date('2026-11-23T06:59:59Z'), new Date('2026-11-22T00:00:00Z')),
    ).toBeNull();
  });

  it('follows daylight saving time', () => {
    const pattern = cronPattern('0 8 * * 1', 'Europe/Berlin');
    const slot = latestSlot(pattern, new Date('2026-07-08T12:00:00Z'), new Date('2026-06-30T00:00:00Z'));
    expect(slot?.toISOString()).toBe('2026-07-06T06:00:00.000Z'); // 08:00 CEST
  });

  it('agrees with a minute-by-minute search across daylight saving changes', () => {
    const bruteForce = (pattern: ReturnType<typeof cronPattern>, now: Date, since: Date) => {
      for (let ms = now.getTime() - (now.getTime() % 60_000); ms > since.getTime(); ms -= 60_000) {
        if (pattern.matches(new Date(ms))) return new Date(ms);
      }
      return null;
    };
    const cases: Array<[string, string, string]> = [
      ['30 2 * * *', 'Europe/Berlin', '2026-10-25T12:00:00Z'],
      ['30 2 * * *', 'Europe/Berlin', '2026-03-29T12:00:00Z'],
      ['0 8 * * 1', 'America/New_York', '2026-11-03T00:00:00Z'],
      ['15 */6 * * *', 'Asia/Kolkata', '2026-11-25T10:17:00Z'],
      ['0 0 1 * *', 'Australia/Lord_Howe', '2026-10-05T00:00:00Z'],
    ];
    for (const [expression, zone, at] of cases) {
      const pattern = cronPattern(expression, zone);
      const now = new Date(at);
      const since = new Date(now.getTime() - 8 * 24 * hour);
      expect(latestSlot(pattern, now, since)?.toISOString(), `${expression} ${zone}`).toBe(
        bruteForce(pattern, now, since)?.toISOString(),
      );
    }
  });

  it('sends the last week that has fully ended at the slot', () => {
    expect(weekForSlot(new Date('2026-11-23T07:00:00Z'), 'Europe/Berlin')).toBe('2026-W47');
    expect(weekForSlot(new Date('2026-11-29T19:00:00Z'), 'Europe/Berlin')).toBe('2026-W47'); // Sunday evening
    expect(weekForSlot(new Date('2027-01-04T08:00:00Z'), 'UTC')).toBe('2026-W53');
  });

  it('refuses an invalid expression with the expression in the message', () => {
    expect(() => cronPattern('every monday', 'UTC')).toThrow(/every monday/);
  });
});

describe('decisions', () => {
  const slot = new Date('2026-11-23T08:00:00Z');
  const at = (hours: number) => new Date(slot.getTime() + hours * hour);

  it('runs on time, catches up within the window, and skips a stale slot unless forced', () => {
    expect(decideSlot({ slot, now: slot, catchUpWindowMs: 12 * hour, force: false }).kind).toBe('due');
    const late = decideSlot({ slot, now: at(3), catchUpWindowMs: 12 * hour, force: false });
    expect(late).toMatchObject({
      kind: 'due',
      reason: expect.stringMatching(/missed by 3 h.*catching up once/),
    });
    const stale = decideSlot({ slot, now: at(24 * 6), catchUpWindowMs: 12 * hour, force: false });
    expect(stale).toMatchObject({ kind: 'stale', reason: expect.stringMatching(/6 days.*stale.*--force/) });
    expect(decideSlot({ slot, now: at(24 * 6), catchUpWindowMs: 12 * hour, force: true }).kind).toBe('due');
  });

  it('takes over waiting and dead runs, never a live one', () => {
    const now = at(1);
    const opts = { now, leaseMs: 10 * 60_000, force: false };
    expect(canTakeOver({ owner: 'a', outcome: 'waiting-approval', updatedAt: now }, opts)).toBe(true);
    expect(canTakeOver({ owner: 'a', outcome: 'running', updatedAt: now }, opts)).toBe(false);
    expect(canTakeOver({ owner: 'a', outcome: 'running', updatedAt: at(0.5) }, opts)).toBe(true);
    expect(canTakeOver({ owner: 'a', outcome: 'sent', updatedAt: at(0) }, opts)).toBe(false);
    expect(
      canTakeOver({ owner: 'a', outcome: 'skipped-stale', updatedAt: at(0) }, { ...opts, force: true }),
    ).toBe(true);
    expect(canTakeOver({ owner: 'a', outcome: 'running', updatedAt: now }, { ...opts, force: true })).toBe(
      false,
    );
  });

  it('sends only approved issues when approval is required', () => {
    expect(decideIssueAction({ status: null, requireApproval: true }).kind).toBe('build');
    expect(decideIssueAction({ status: 'draft', requireApproval: true }).kind).toBe('wait-approval');
    expect(decideIssueAction({ status: 'draft', requireApproval: false }).kind).toBe('send');
    expect(decideIssueAction({ status: 'approved', requireApproval: true }).kind).toBe('send');
    expect(decideIssueAction({ status: 'sent', requireApproval: true })).toMatchObject({
      kind: 'done',
      outcome: 'already-sent',
    });
    expect(decideIssueAction({ status: 'cancelled', requireApproval: false })).toMatchObject({
      kind: 'done',
      outcome: 'halted',
    });
  });
});
