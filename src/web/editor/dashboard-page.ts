import { percent } from '../../reports/format-stats.ts';
import type { EngagementCounts, IssueStats, WeekPoint } from '../../reports/issue-stats.ts';
import { segmentSetFromKey } from '../../stories/segment-set.ts';
import type { SunsetWeek } from '../../subscribers/sunset.ts';
import { html, type SafeHtml } from '../html.ts';
import { statusBadge } from './editor-layout.ts';
import { lineChart } from './svg-chart.ts';

const counted: Array<[string, (c: EngagementCounts) => string]> = [
  ['Recipients', (c) => String(c.recipients)],
  ['Sent', (c) => String(c.sent)],
  ['Failed', (c) => String(c.failed)],
  ['Bounced', (c) => String(c.bounced)],
  ['Pending', (c) => String(c.pending)],
  ["Not tracked (reader's choice)", (c) => String(c.notTracked)],
  ['Delivered with tracking', (c) => String(c.trackedDelivered)],
  ['Unique human opens', (c) => String(c.humanOpeners)],
  ['Open rate', (c) => percent(c.openRate)],
  ['Machine opens', (c) => String(c.machineOpeners)],
  ['Scanner / unclassified opens', (c) => `${c.scannerOpeners} / ${c.unknownOpeners}`],
  ['Unique human clicks', (c) => String(c.humanClickers)],
  ['Click rate', (c) => percent(c.clickRate)],
  ['Other clicks (machines, scanners)', (c) => String(c.otherClicks)],
  ['Unsubscribes', (c) => String(c.unsubscribes)],
  ['Complaints', (c) => String(c.complaints)],
];

/** The week-over-week charts: audience, open rate, click rate, unsubscribes. */
export function weeklyCharts(series: readonly WeekPoint[]): SafeHtml {
  const points = (pick: (p: WeekPoint) => number) => series.map((p) => ({ label: p.week, value: pick(p) }));
  const whole = (value: number) => String(Math.round(value));
  return html`<div class="charts">
${lineChart(
  points((p) => p.audience),
  { title: 'Audience (recipients)', format: whole },
)}
${lineChart(
  points((p) => p.openRate),
  { title: 'Open rate (humans)', format: percent },
)}
${lineChart(
  points((p) => p.clickRate),
  { title: 'Click rate (humans)', format: percent },
)}
${lineChart(
  points((p) => p.unsubscribes),
  { title: 'Unsubscribes', format: whole },
)}
</div>
<details><summary>The same numbers as a table</summary>
<table><thead><tr><th>Week</th><th class="num">Audience</th><th class="num">Delivered</th><th class="num">Open rate</th><th class="num">Click rate</th><th class="num">Unsubscribes</th><th class="num">Complaints</th></tr></thead>
<tbody>${series.map(
    (p) =>
      html`<tr><td><a href="/editor/issues/${p.week}/stats">${p.week}</a></td><td class="num">${p.audience}</td><td class="num">${p.delivered}</td><td class="num">${percent(p.openRate)}</td><td class="num">${percent(p.clickRate)}</td><td class="num">${p.unsubscribes}</td><td class="num">${p.complaints}</td></tr>`,
  )}</tbody></table></details>`;
}

/** A segment set as editors named its segments ("Engineers & Developers + Investors"), not by slugs. */
export function segmentSetLabel(segmentKey: string, names: ReadonlyMap<string, string>): string {
  return segmentSetFromKey(segmentKey)
    .slugs.map((slug) => names.get(slug) ?? slug)
    .join(' + ');
}

/**
 * One issue's numbers: the totals, then one row per segment set (by the segments' names), then the
 * links readers can see by clicks. The hidden scanner trap is not a story link: only its count is shown.
 */
export function issueStatsSection(
  stats: IssueStats,
  segmentNames: ReadonlyMap<string, string> = new Map(),
): SafeHtml {
  const links = stats.links.filter((l) => l.kind !== 'honeypot');
  const trapClicks = stats.links
    .filter((l) => l.kind === 'honeypot')
    .reduce((sum, l) => sum + l.humanClicks + l.otherClicks, 0);
  const segmentColumns: Array<[string, (c: EngagementCounts) => string]> = [
    ['Recipients', (c) => String(c.recipients)],
    ['Delivered', (c) => String(c.delivered)],
    ['Not tracked', (c) => String(c.notTracked)],
    ['Human opens', (c) => String(c.humanOpeners)],
    ['Open rate', (c) => percent(c.openRate)],
    ['Human clicks', (c) => String(c.humanClickers)],
    ['Click rate', (c) => percent(c.clickRate)],
    ['Unsubscribes', (c) => String(c.unsubscribes)],
    ['Complaints', (c) => String(c.complaints)],
  ];
  return html`<h2>${stats.week} ${statusBadge(stats.status)}</h2>
<table class="stats" data-week="${stats.week}"><tbody>${counted.map(
    ([label, value]) =>
      html`<tr><th scope="row">${label}</th><td class="num" data-metric="${label}">${value(stats.totals)}</td></tr>`,
  )}</tbody></table>
<p class="muted">Opens and clicks count people. Rates are over delivered messages (sent minus bounced) that were tracked, and count humans only: readers who chose not to have their opens and clicks counted get no pixel and plain links, and are left out of the rates (whether a message was tracked is fixed when it is sent, so later changes of mind do not move past weeks). Machine opens are privacy proxies fetching images, scanners are mail gateways following links.</p>
<h3>Per segment set</h3>
${
  stats.segments.length === 0
    ? html`<p class="muted">Nothing sent yet.</p>`
    : html`<table class="segments"><thead><tr><th>Segment set</th>${segmentColumns.map(([label]) => html`<th class="num">${label}</th>`)}</tr></thead>
<tbody>${stats.segments.map(
        (s) =>
          html`<tr data-segment-key="${s.segmentKey}"><td>${segmentSetLabel(s.segmentKey, segmentNames)}</td>${segmentColumns.map(([, value]) => html`<td class="num">${value(s)}</td>`)}</tr>`,
      )}</tbody></table>`
}
<h3>Clicks per link</h3>
${
  links.length === 0
    ? html`<p class="muted">No links registered for this issue yet (they are registered when it is sent).</p>`
    : html`<table class="links"><thead><tr><th>Story or link</th><th class="num">Human clicks</th><th class="num">People</th><th class="num">Other clicks</th></tr></thead>
<tbody>${links.map(
        (l) =>
          html`<tr><td>${l.storyTitle ?? l.kind}<br><a class="muted" href="${l.url}" rel="noreferrer noopener">${l.url}</a></td><td class="num">${l.humanClicks}</td><td class="num">${l.humanClickers}</td><td class="num">${l.otherClicks}</td></tr>`,
      )}</tbody></table>`
}
${trapClicks > 0 ? html`<p class="muted" data-metric="scanner-trap">The hidden scanner trap (a link no person sees) was followed ${trapClicks} time${trapClicks === 1 ? '' : 's'}: those readers’ clicks count as machines’.</p>` : ''}`;
}

/** Readers asked "still want the recap?" and paused for inactivity, per week. */
export function sunsetSection(sunset: { weeks: readonly SunsetWeek[]; pausedNow: number }): SafeHtml {
  return html`<h2>Sunsetting</h2>
<p class="muted">Tracked readers with no human open or click in SUNSET_AFTER_ISSUES sent issues get one "still want the recap?" mail; without an answer within SUNSET_GRACE_DAYS they are paused (not deleted). Untracked readers are never sunset. Paused for inactivity now: <strong data-metric="sunset-paused-now">${sunset.pausedNow}</strong>.</p>
${
  sunset.weeks.length === 0
    ? html`<p class="muted">Nobody asked or paused yet.</p>`
    : html`<table class="sunset"><thead><tr><th>Week</th><th class="num">Asked</th><th class="num">Paused</th></tr></thead>
<tbody>${sunset.weeks.map((w) => html`<tr data-week="${w.week}"><td>${w.week}</td><td class="num">${w.asked}</td><td class="num">${w.paused}</td></tr>`)}</tbody></table>`
}`;
}

export function dashboardBody(
  series: readonly WeekPoint[],
  latest: IssueStats | null,
  sunset?: { weeks: readonly SunsetWeek[]; pausedNow: number },
  segmentNames: ReadonlyMap<string, string> = new Map(),
): SafeHtml {
  return html`<h2>Week over week</h2>
${weeklyCharts(series)}
${latest ? issueStatsSection(latest, segmentNames) : html`<p class="muted">No issue has been sent yet.</p>`}
${sunset ? sunsetSection(sunset) : ''}`;
}
