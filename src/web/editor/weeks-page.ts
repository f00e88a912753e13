import type { IssueSummary } from '../../reports/issue-summaries.ts';
import type { FireRecord } from '../../schedule/run-coordinator.ts';
import { html, type SafeHtml } from '../html.ts';
import { formatDateTime, statusBadge } from './editor-layout.ts';

/** What the weeks list says of a week beyond its counts: its dates, lead headline and when it goes out. */
export interface WeekLine {
  range: string;
  lead: string | null;
  goesOut: string;
}

/**
 * The editor's start page: every week with its dates, lead headline, state, when it goes out and its
 * counts, and the weeks not built yet.
 */
export function weeksBody(
  issues: readonly IssueSummary[],
  unbuilt: readonly string[],
  timeZone: string,
  lines: ReadonlyMap<string, WeekLine> = new Map(),
): SafeHtml {
  return html`${
    unbuilt.length > 0
      ? html`<p>${unbuilt.map(
          (week) =>
            html`<form class="inline" method="post" action="/editor/issues/${week}/build"><button type="submit">Build ${week}</button></form> `,
        )}</p>`
      : ''
  }
<table class="weeks"><thead><tr><th>Week</th><th>Lead headline</th><th>State</th><th>Goes out</th><th class="num">Segments</th><th class="num">Stories</th><th class="num">Recipients</th><th class="num">Sent</th><th class="num">Failed</th><th class="num">Human opens</th><th class="num">Human clicks</th><th>Approved</th><th></th></tr></thead>
<tbody>${issues.map(
    (i) => html`<tr data-week="${i.week}">
<td><a href="/editor/issues/${i.week}">${i.week}</a>${lines.get(i.week) ? html`<br><span class="muted week-range">${lines.get(i.week)?.range}</span>` : ''}</td>
<td class="lead">${lines.get(i.week)?.lead ?? html`<span class="muted">–</span>`}</td>
<td>${statusBadge(i.status)}${i.statusReason ? html`<br><span class="muted">${i.statusReason}</span>` : ''}</td>
<td class="goes-out">${lines.get(i.week)?.goesOut ?? ''}</td>
<td class="num">${i.segmentsFilled} / ${i.segments}</td><td class="num">${i.stories}</td>
<td class="num">${i.recipients}</td><td class="num">${i.sent}</td><td class="num">${i.failed}</td>
<td class="num">${i.humanOpeners}</td><td class="num">${i.humanClickers}</td>
<td>${formatDateTime(i.approvedAt, timeZone)}</td>
<td><a href="/editor/issues/${i.week}">Preview</a>${i.recipients > 0 ? html` · <a href="/editor/issues/${i.week}/stats">Stats</a>` : ''}</td>
</tr>`,
  )}</tbody></table>
${issues.length === 0 ? html`<p class="muted">No issue yet. Import stories (<code>recap import stories FILE</code>), then build a week.</p>` : ''}`;
}

/** What the weekly schedule decided for its latest slots, and why. */
export function scheduleBody(fires: readonly FireRecord[], timeZone: string): SafeHtml {
  if (fires.length === 0)
    return html`<h2>Schedule</h2><p class="muted">The schedule has not fired yet (<code>recap schedule</code>).</p>`;
  return html`<h2>Schedule</h2>
<table class="fires"><thead><tr><th>Slot</th><th>Week</th><th>Outcome</th><th>Why</th><th>By</th></tr></thead>
<tbody>${fires.map(
    (f) =>
      html`<tr><td>${formatDateTime(f.slot, timeZone)}</td><td>${f.week ?? ''}</td><td>${f.outcome ?? ''}</td><td>${f.detail ?? ''}</td><td class="muted">${f.owner}</td></tr>`,
  )}</tbody></table>`;
}
