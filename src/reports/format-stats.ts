import type { EngagementCounts, IssueStats } from './issue-stats.ts';

const rows: Array<[string, (c: EngagementCounts) => string]> = [
  ['recipients', (c) => String(c.recipients)],
  ['sent', (c) => String(c.sent)],
  ['failed', (c) => String(c.failed)],
  ['bounced', (c) => String(c.bounced)],
  ['pending', (c) => String(c.pending)],
  ['skipped', (c) => String(c.skipped)],
  ['delivered', (c) => String(c.delivered)],
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

/** The plain-text report of `recap stats`: totals and segments side by side, then links by clicks. */
export function formatIssueStats(stats: IssueStats): string {
  const columns = [
    { name: 'total', counts: stats.totals },
    ...stats.segments.map((s) => ({ name: s.segmentKey, counts: s })),
  ];
  const labelWidth = Math.max(...rows.map(([label]) => label.length));
  const widths = columns.map((col) =>
    Math.max(col.name.length, ...rows.map(([, value]) => value(col.counts).length)),
  );
  const line = (label: string, cells: string[]) =>
    `${label.padEnd(labelWidth)}  ${cells.map((cell, i) => cell.padStart(widths[i] ?? 0)).join('  ')}`.trimEnd();
  const out = [
    `Issue ${stats.week} (${stats.status})${stats.sendStartedAt ? `, sending started ${stats.sendStartedAt.toISOString()}` : ''}`,
    '',
    line(
      '',
      columns.map((c) => c.name),
    ),
    ...rows.map(([label, value]) =>
      line(
        label,
        columns.map((c) => value(c.counts)),
      ),
    ),
  ];
  if (stats.links.length > 0) {
    out.push('', 'Links (human clicks, unique human clickers, other clicks):');
    for (const link of stats.links) {
      const what = link.storyTitle ?? link.kind;
      out.push(
        `  ${String(link.humanClicks).padStart(5)} ${String(link.humanClickers).padStart(5)} ${String(link.otherClicks).padStart(5)}  ${what}  ${link.url}`,
      );
    }
  }
  out.push('', 'Opens and clicks count people; rates are over delivered messages and count humans only.');
  return `${out.join('\n')}\n`;
}
