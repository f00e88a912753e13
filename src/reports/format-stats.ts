import type { SunsetWeek } from '../subscribers/sunset.ts';
import type { EngagementCounts, IssueStats } from './issue-stats.ts';

const rows: Array<[string, (c: EngagementCounts) => string]> = [
  ['recipients', (c) => String(c.recipients)],
  ['sent', (c) => String(c.sent)],
  ['failed', (c) => String(c.failed)],
  ['bounced', (c) => String(c.bounced)],
  ['pending', (c) => String(c.pending)],
  ['skipped', (c) => String(c.skipped)],
  ['delivered', (c) => String(c.delivered)],
  ['not tracked', (c) => String(c.notTracked)],
  ['tracked delivered', (c) => String(c.trackedDelivered)],
  ['unique human opens', (c) => String(c.humanOpeners)],
  ['open rate', (c) => percent(c.openRate)],
  ['machine opens', (c) => String(c.machineOpeners)],
  ['scanner opens', (c) => String(c.scannerOpeners)],
  ['unclassified opens', (c) => String(c.unknownOpeners)],
  ['unique human clicks', (c) => String(c.humanClickers)],
  ['click rate', (c) => percent(c.clickRate)],
  ['human clicks (total)', (c) => String(c.humanClicks)],
  ['other clicks', (c) => String(c.otherClicks)],
  ['unsubscribes', (c) => String(c.unsubscribes)],
  ['complaints', (c) => String(c.complaints)],
];

export function percent(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

const segmentColumns: Array<[string, (c: EngagementCounts) => string]> = [
  ['recipients', (c) => String(c.recipients)],
  ['delivered', (c) => String(c.delivered)],
  ['opens', (c) => String(c.humanOpeners)],
  ['open rate', (c) => percent(c.openRate)],
  ['clicks', (c) => String(c.humanClickers)],
  ['click rate', (c) => percent(c.clickRate)],
  ['unsubs', (c) => String(c.unsubscribes)],
  ['complaints', (c) => String(c.complaints)],
];

/** The plain-text report of `recap stats`: the totals, a line per segment set, then links by clicks. */
export function formatIssueStats(
  stats: IssueStats,
  segmentNames: ReadonlyMap<string, string> = new Map(),
): string {
  // A set whose segments have no known name (a report read without them) keeps its key.
  const setName = (key: string) =>
    key.split('+').some((slug) => segmentNames.has(slug))
      ? key
          .split('+')
          .map((slug) => segmentNames.get(slug) ?? slug)
          .join(' + ')
      : key;
  // The hidden scanner trap is no story link: its clicks are counted, it is not listed.
  const links = stats.links.filter((link) => link.kind !== 'honeypot');
  const labelWidth = Math.max(...rows.map(([label]) => label.length));
  const out = [
    `Issue ${stats.week} (${stats.status})${stats.sendStartedAt ? `, sending started ${stats.sendStartedAt.toISOString()}` : ''}`,
    '',
    ...rows.map(([label, value]) => `  ${label.padEnd(labelWidth)}  ${value(stats.totals)}`),
  ];
  if (stats.segments.length > 0) {
    const keyWidth = Math.max(
      'segment set'.length,
      ...stats.segments.map((s) => setName(s.segmentKey).length),
    );
    const widths = segmentColumns.map(([label, value]) =>
      Math.max(label.length, ...stats.segments.map((s) => value(s).length)),
    );
    const line = (key: string, cells: string[]) =>
      `  ${key.padEnd(keyWidth)}  ${cells.map((cell, i) => cell.padStart(widths[i] ?? 0)).join('  ')}`.trimEnd();
    out.push(
      '',
      'Per segment set (humans):',
      line(
        'segment set',
        segmentColumns.map(([label]) => label),
      ),
    );
    for (const segment of stats.segments)
      out.push(
        line(
          setName(segment.segmentKey),
          segmentColumns.map(([, value]) => value(segment)),
        ),
      );
  }
  if (links.length > 0) {
    out.push('', 'Links (human clicks, unique human clickers, other clicks):');
    for (const link of links) {
      const what = link.storyTitle ?? link.kind;
      out.push(
        `  ${String(link.humanClicks).padStart(5)} ${String(link.humanClickers).padStart(5)} ${String(link.otherClicks).padStart(5)}  ${what}  ${link.url}`,
      );
    }
  }
  out.push(
    '',
    'Opens and clicks count people; rates are over delivered messages that were tracked (readers who chose',
    '"not tracked" get no pixel and plain links and are left out of the rates) and count humans only.',
  );
  return `${out.join('\n')}\n`;
}

/** The sunsetting lines of `recap stats`: readers asked "still want the recap?" and paused, per week. */
export function formatSunsetWeeks(weeks: readonly SunsetWeek[], pausedNow: number): string {
  const out = ['', `Sunsetting (readers paused for inactivity now: ${pausedNow}):`];
  if (weeks.length === 0) out.push('  nobody asked or paused yet');
  for (const week of weeks)
    out.push(
      `  ${week.week}  ${String(week.asked).padStart(5)} asked  ${String(week.paused).padStart(5)} paused`,
    );
  return `${out.join('\n')}\n`;
}
