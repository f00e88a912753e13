import { describe, expect, it } from 'vitest';
import { formatIssueStats, formatSunsetWeeks } from '../../src/reports/format-stats.ts';
import type { EngagementCounts } from '../../src/reports/issue-stats.ts';

const counts: EngagementCounts = {
  recipients: 10,
  sent: 10,
  failed: 0,
  bounced: 0,
  pending: 0,
  skipped: 0,
  delivered: 10,
  notTracked: 4,
  trackedDelivered: 6,
  humanOpeners: 3,
  machineOpeners: 0,
  scannerOpeners: 0,
  unknownOpeners: 0,
  humanClickers: 1,
  humanClicks: 1,
  otherClicks: 0,
  openRate: 0.5,
  clickRate: 1 / 6,
  unsubscribes: 0,
  complaints: 0,
};

describe('recap stats text', () => {
  it('shows the deliveries not tracked, the tracked denominator and says rates leave the untracked out', () => {
    const text = formatIssueStats({
      issueId: 1,
      week: '2026-W48',
      status: 'sent',
      sendStartedAt: null,
      sendFinishedAt: null,
      totals: counts,
      humanReaders: 3,
      trackedDelivered: counts.trackedDelivered,
      segments: [],
      links: [],
    });
    expect(text).toMatch(/^ {2}not tracked +4$/m);
    expect(text).toMatch(/^ {2}tracked delivered +6$/m);
    expect(text).toMatch(/^ {2}open rate +50\.0%$/m);
    expect(text).toContain('rates are over delivered messages that were tracked');
  });

  it('lists readers asked and paused by sunsetting per week', () => {
    expect(
      formatSunsetWeeks(
        [
          { week: '2026-W49', asked: 12, paused: 3 },
          { week: '2026-W48', asked: 40, paused: 0 },
        ],
        3,
      ),
    ).toBe(
      '\nSunsetting (readers paused for inactivity now: 3):\n  2026-W49     12 asked      3 paused\n  2026-W48     40 asked      0 paused\n',
    );
    expect(formatSunsetWeeks([], 0)).toContain('nobody asked or paused yet');
  });
});
