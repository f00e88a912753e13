import { describe, expect, it } from 'vitest';
import { HONEYPOT_URL } from '../../src/render/issue-links.ts';
import { formatIssueStats } from '../../src/reports/format-stats.ts';
import type { EngagementCounts, IssueStats } from '../../src/reports/issue-stats.ts';
import { issueStatsSection } from '../../src/web/editor/dashboard-page.ts';

// Stats name segment sets as editors wrote them, and the hidden scanner trap is never listed as a link.
const counts: EngagementCounts = {
  recipients: 10,
  sent: 10,
  failed: 0,
  bounced: 0,
  pending: 0,
  skipped: 0,
  delivered: 10,
  notTracked: 0,
  trackedDelivered: 10,
  humanOpeners: 4,
  machineOpeners: 1,
  scannerOpeners: 0,
  unknownOpeners: 0,
  humanClickers: 2,
  humanClicks: 3,
  otherClicks: 1,
  openRate: 0.4,
  clickRate: 0.2,
  unsubscribes: 0,
  complaints: 0,
};
const stats: IssueStats = {
  issueId: 1,
  week: '2026-W49',
  status: 'sent',
  sendStartedAt: new Date('2026-12-07T07:00:00Z'),
  sendFinishedAt: new Date('2026-12-07T07:05:00Z'),
  totals: counts,
  humanReaders: 4,
  trackedDelivered: 10,
  segments: [{ ...counts, segmentKey: 'engineers-developers+investors' }],
  links: [
    {
      position: 0,
      url: 'https://news.example.com/tern',
      kind: 'story',
      storyId: 's1',
      storyTitle: 'Tern-70B leads',
      humanClicks: 3,
      humanClickers: 2,
      otherClicks: 0,
    },
    {
      position: 1,
      url: HONEYPOT_URL,
      kind: 'honeypot',
      storyId: null,
      storyTitle: null,
      humanClicks: 0,
      humanClickers: 0,
      otherClicks: 1,
    },
  ],
};
const names = new Map([
  ['engineers-developers', 'Engineers & Developers'],
  ['investors', 'Investors'],
]);

describe('names for people in the numbers', () => {
  it('the stats page names segment sets by their segments and leaves the scanner trap out of the links', () => {
    const page = issueStatsSection(stats, names).value;
    expect(page).toContain('<td>Engineers &amp; Developers + Investors</td>');
    expect(page).not.toContain('>engineers-developers + investors<');
    expect(page).toContain('Tern-70B leads');
    expect(page).not.toContain(HONEYPOT_URL);
    expect(page).toMatch(/hidden scanner trap .* followed 1 time/);
  });

  it('recap stats does the same', () => {
    const text = formatIssueStats(stats, names);
    expect(text).toContain('Engineers & Developers + Investors');
    expect(text).not.toContain('engineers-developers+investors');
    expect(text).toContain('Tern-70B leads');
    expect(text).not.toContain(HONEYPOT_URL);
  });
});
