import { html, type SafeHtml } from '../html.ts';
import type { IssuePageData } from './issue-page.ts';

/** One segment set as the approval review shows it. */
export interface ReviewRow {
  segmentKey: string;
  label: string;
  /** Readers who follow exactly this set (0 for a single segment no reader follows alone). */
  readers: number;
  /** Stories the set's readers get (after the reading budget and the size guard). */
  stories: number;
  minutes: number;
  /** Titles left out by the reading budget or the size guard, with why. */
  leftOut: string[];
}

/** When the approved issue goes out, in words: "goes out Mon 14 Dec, 08:00 Europe/Berlin (in 6 days)". */
export type GoesOut = { text: string };

/**
 * The approval as a review step: per segment set the stories, readers, read time and what was left
 * out; the empty segments, which block approval unless the box is ticked with a reason; the Approve
 * button saying when the issue goes out; Back to draft until the send starts.
 */
export function approvalSection(data: IssuePageData): SafeHtml {
  const rows = data.review ?? [];
  const empty = data.sections.filter((section) => section.skipped).map((section) => section.segment.name);
  const back = String(new URLSearchParams({ segments: data.segmentKey, view: data.view }));
  return html`<section class="approval" id="approval" aria-labelledby="approval-heading">
<h2 id="approval-heading">Review and approval</h2>
<table class="review cards" id="review"><caption class="visually-hidden">What each segment set receives</caption>
<thead><tr><th>Segment set</th><th class="num">Readers</th><th class="num">Stories</th><th class="num">Read time</th><th>Left out</th></tr></thead>
<tbody>${rows.map(
    (row) =>
      html`<tr data-segments="${row.segmentKey}"><td data-label="Segment set">${row.label}</td><td class="num" data-label="Readers">${row.readers}</td><td class="num${row.stories === 0 ? ' bad' : ''}" data-label="Stories">${row.stories}</td><td class="num" data-label="Read time">${row.stories === 0 ? '–' : `${row.minutes} min`}</td><td data-label="Left out">${
        row.leftOut.length === 0
          ? html`<span class="muted">nothing</span>`
          : html`<ul>${row.leftOut.map((title) => html`<li>${title}</li>`)}</ul>`
      }</td></tr>`,
  )}</tbody></table>
${empty.length > 0 ? html`<p class="warn" id="empty-segments">No stories for ${empty.join(', ')}.</p>` : ''}
${approvalControls(data, empty, back)}
</section>`;
}

function approvalControls(data: IssuePageData, empty: string[], back: string): SafeHtml {
  const goesOut = data.goesOut?.text ?? 'the schedule has not been computed';
  if (data.status === 'draft') {
    return html`<form method="post" action="/editor/issues/${data.week}/approve?${back}" class="approve-form">
${
  empty.length > 0
    ? html`<p>Approval is refused while a segment has no stories, unless you accept it and say why.</p>
<label><input type="checkbox" name="allow_empty" id="allow-empty"> Approve with ${empty.length === 1 ? 'this segment' : 'these segments'} empty: ${empty.join(', ')} readers get no section for ${empty.length === 1 ? 'it' : 'them'}</label>
<label for="empty-reason">Reason (required with the box)</label>
<input id="empty-reason" name="empty_reason" maxlength="300" placeholder="e.g. a quiet week for research">`
    : ''
}
<button type="submit" id="approve">Approve — ${goesOut}</button>
<span class="muted">freezes the selection, the note and the subject</span>
</form>`;
  }
  if (data.status === 'approved' || data.status === 'scheduled') {
    return html`<p id="approved-line">Approved: ${goesOut}.</p>
<form method="post" action="/editor/issues/${data.week}/unapprove?${back}"><button type="submit" id="back-to-draft">Back to draft</button> <span class="muted">until the send starts; the selection, note and subject can change again</span></form>`;
  }
  return html`<p>This issue is ${data.status}: its selection is frozen.</p>`;
}

/** "Mon 14 Dec, 08:00 Europe/Berlin (in 6 days)": a fire time in the schedule's zone and how far off it is. */
export function formatFireTime(slot: Date, now: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(slot);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const when = `${part('weekday')} ${part('day')} ${part('month')}, ${part('hour')}:${part('minute')} ${timeZone}`;
  return `${when} (${relative(slot.getTime() - now.getTime())})`;
}

function relative(ms: number): string {
  const minutes = Math.round(Math.abs(ms) / 60_000);
  const amount =
    minutes < 60
      ? `${minutes} minute${minutes === 1 ? '' : 's'}`
      : minutes < 48 * 60
        ? `${Math.round(minutes / 60)} hour${Math.round(minutes / 60) === 1 ? '' : 's'}`
        : `${Math.round(minutes / 1440)} days`;
  return ms >= 0 ? `in ${amount}` : `${amount} ago`;
}
