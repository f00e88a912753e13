import type { IssueStatus } from '../../db/database.ts';
import type { RolloutHour } from '../../delivery/delivery.repository.ts';
import type { IssueSection, IssueStoryUpdate } from '../../issues/issue-content.ts';
import type { StoredOverride } from '../../issues/issue-overrides.repository.ts';
import type { IssueWriting } from '../../issues/issue-writing.ts';
import type { LeftOut } from '../../render/recap-outline.ts';
import type { AudienceSegmentSet } from '../../reports/segment-sets.ts';
import { segmentSetFromKey } from '../../stories/segment-set.ts';
import { html, type SafeHtml } from '../html.ts';
import { approvalSection, type GoesOut, type ReviewRow } from './approval-section.ts';
import { formatDateTime, statusBadge } from './editor-layout.ts';
import { GMAIL_CLIP_BYTES, type PreviewView, previewViews } from './email-preview.ts';
import type { LinkCheck } from './link-check.ts';
import { type SendView, sendSection } from './send-section.ts';
import { type SubjectTestView, subjectTestSection } from './subject-test-section.ts';
import { writingSection } from './writing-section.ts';

/** A story that competed for a segment and was not picked. */
export interface CandidateView {
  storyId: string;
  title: string;
  sourceName: string;
  score: number;
  reasons: string[];
}

/** A stored override with the title of its story, for the overrides lists. */
export interface OverrideView extends StoredOverride {
  title: string;
}

export interface IssuePageData {
  week: string;
  status: IssueStatus;
  statusReason: string | null;
  /** Local-time sends: deliveries by the hour (UTC) they come due, and how many of them went out. */
  rollout?: RolloutHour[];
  /** Several relays (SMTP_URLS): messages each one carried so far. */
  relays?: Array<{ relay: string; sent: number }>;
  approvedAt: Date | null;
  timeZone: string;
  /** The segment set shown, '+'-joined slugs. */
  segmentKey: string;
  segmentSets: Array<AudienceSegmentSet & { label: string }>;
  view: PreviewView;
  subject: string;
  preheader: string;
  /** The From name readers see beside the subject. */
  senderName: string;
  /** The issue's note, subject and preheader as the editor wrote them (the snapshot's once approved). */
  writing: IssueWriting;
  /** Size of a tracked personal copy's HTML: the largest a reader receives. */
  htmlBytes: number;
  linkCount: number;
  sections: IssueSection[];
  candidates: Map<number, CandidateView[]>;
  notes: string[];
  testRecipients: string[];
  linkCheck: LinkCheck[] | null;
  /** Per segment set with stories: the read time its readers see and what the budget or size guard left out. */
  readingBudget: ReadingBudgetRow[];
  /** Stories of this (sent) issue withdrawn by their publisher since. */
  retracted?: ReadonlySet<string>;
  /** Per segment set: readers, stories, read time and what was left out (the approval review). */
  review?: ReviewRow[];
  /** When the issue goes out by the schedule, in words. */
  goesOut?: GoesOut;
  /** The issue's subject variants and its test's numbers and decision (absent: none). */
  subjectTest?: SubjectTestView;
  /** The send controls and live progress (absent: the page offers none). */
  send?: SendView;
  /** The week's editorial overrides, oldest first. */
  overrides?: OverrideView[];
  /** The override the last form made (offered as "Undo" beside the list), when it still exists. */
  lastChange?: OverrideView | null;
}

export interface ReadingBudgetRow {
  segmentKey: string;
  label: string;
  minutes: number;
  htmlBytes: number;
  leftOut: LeftOut[];
}

/**
 * The page in order, one named section each. A new part of the issue page is a function of the data
 * added here (its own file, one line in this list); each section is a landmark of its own. The client
 * script (issue-page-script.ts) swaps every element carrying `data-swap` after an in-place action.
 */
export const issuePageSections: ReadonlyArray<{ name: string; render: (data: IssuePageData) => SafeHtml }> = [
  { name: 'status', render: statusLine },
  { name: 'workspace', render: workspace },
  { name: 'writing', render: writingSection },
  { name: 'approval', render: approvalSection },
  { name: 'subject-test', render: subjectTestSection },
  { name: 'send', render: sendSection },
  { name: 'test-send', render: testSend },
  { name: 'reading-budget', render: readingBudgetSection },
  { name: 'rollout', render: (data) => rolloutTable(data.rollout ?? []) },
  { name: 'relays', render: (data) => relayTable(data.relays ?? []) },
];

/** The preview and selection page of one issue: pure, everything escaped. */
export function issueBody(data: IssuePageData): SafeHtml {
  return html`${issuePageSections.map((section) => section.render(data))}`;
}

const viewLabels: Record<PreviewView, string> = {
  desktop: 'Desktop',
  mobile: 'Mobile 375 px',
  text: 'Plain text',
  dark: 'Dark',
};

function query(data: Pick<IssuePageData, 'segmentKey' | 'view'>, extra: Record<string, string> = {}): string {
  return new URLSearchParams({ segments: data.segmentKey, view: data.view, ...extra }).toString();
}

/** The accessible name of a story action: the action, then its story ("Drop: Tern-70B…"). */
function forStory(label: string, title: string): SafeHtml {
  return html` aria-label="${label}: ${title}"`;
}

function statusLine(data: IssuePageData): SafeHtml {
  return html`<p class="status-line">${statusBadge(data.status)}
${data.approvedAt ? html` approved ${formatDateTime(data.approvedAt, data.timeZone)}` : ''}
${data.statusReason ? html` <span class="muted">${data.statusReason}</span>` : ''}
· <a href="/editor/issues/${data.week}/stats">Stats</a></p>`;
}

/** The first screen: the email as readers get it, beside the stories of each segment and their actions. */
function workspace(data: IssuePageData): SafeHtml {
  return html`<div class="workspace">
${previewPane(data)}
${selectionPane(data)}
</div>`;
}

function previewPane(data: IssuePageData): SafeHtml {
  const back = query(data);
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  const sizeClass =
    data.htmlBytes > GMAIL_CLIP_BYTES ? 'bad' : data.htmlBytes > GMAIL_CLIP_BYTES * 0.8 ? 'warn' : 'good';
  return html`<section class="preview-pane" id="preview" aria-labelledby="preview-heading">
<h2 id="preview-heading" class="visually-hidden">Email preview</h2>
<a class="skip-link" href="#selection-heading">Skip the preview to the stories</a>
<div class="preview-bar">
<form method="get" action="/editor/issues/${data.week}" class="segment-set">
<label for="segment-set">Segment set</label>
<select id="segment-set" name="segments">${data.segmentSets.map(
    (set) =>
      html`<option value="${set.segmentKey}"${set.segmentKey === data.segmentKey ? html` selected` : ''}>${set.label}${set.subscribers > 0 ? ` (${set.subscribers} readers)` : ''}</option>`,
  )}</select>
<input type="hidden" name="view" value="${data.view}">
<button type="submit">Show</button>
</form>
<nav class="tabs" aria-label="Preview">${previewViews.map(
    (view) =>
      html`<a href="/editor/issues/${data.week}?${query(data, { view })}#preview"${view === data.view ? html` aria-current="page"` : ''}>${viewLabels[view]}</a>`,
  )}</nav>
</div>
<div class="kv" id="preview-meta" data-swap>
<span>Subject</span><strong id="subject">${data.subject}</strong>
<span>Preheader</span><span id="preheader">${data.preheader || '(none)'}</span>
<span>HTML size</span><span id="html-size" class="${sizeClass}">${kb(data.htmlBytes)} of Gmail’s ${kb(GMAIL_CLIP_BYTES)} limit${data.htmlBytes > GMAIL_CLIP_BYTES ? ' — Gmail will clip this message' : ''}</span>
<span>Links</span><span>${data.linkCount} <form class="inline" method="post" action="/editor/issues/${data.week}/check-links?${back}"><button type="submit">Check links</button></form></span>
</div>
${data.linkCheck ? linkCheckTable(data.linkCheck) : ''}
<iframe class="preview ${data.view}" title="The email as ${viewLabels[data.view]}" sandbox="allow-popups allow-popups-to-escape-sandbox" src="/editor/issues/${data.week}/email?${back}"></iframe>
</section>`;
}

/** Segment by segment: the stories picked (score parts, reasons, actions), the overrides, the runners-up. */
function selectionPane(data: IssuePageData): SafeHtml {
  const frozen = data.status !== 'draft';
  const shown = new Set(segmentSetFromKey(data.segmentKey).slugs);
  const overrides = data.overrides ?? [];
  const everywhere = overrides.filter((o) => o.segmentId === null);
  return html`<section class="selection-pane" id="selection" data-swap aria-labelledby="selection-heading">
<h2 id="selection-heading" tabindex="-1">Stories by segment</h2>
${lastChange(data, frozen)}
${data.notes.length > 0 ? html`<ul class="warn">${data.notes.map((note) => html`<li>${note}</li>`)}</ul>` : ''}
${
  overrides.length === 0
    ? html`<p class="muted">No overrides this week: the selection is the scoring’s own.</p>`
    : html`<div class="overrides-summary">${overrides.length} override${overrides.length === 1 ? '' : 's'} this week${
        frozen
          ? ''
          : html` <form class="inline" method="post" action="${overrideAction(data)}" data-inplace data-confirm="Remove all ${overrides.length} overrides of ${data.week}?"><input type="hidden" name="action" value="clear"><button type="submit" id="clear-overrides">Clear all overrides</button></form>`
      }</div>`
}
${everywhere.length > 0 ? html`<h3>Every segment</h3>${overrideList(data, everywhere, frozen)}` : ''}
${data.sections.map((section) =>
  sectionBlock(
    data,
    section,
    shown.has(section.segment.slug),
    frozen,
    overrides.filter((o) => o.segmentId === section.segment.id),
  ),
)}
</section>`;
}

function overrideAction(data: IssuePageData): string {
  return `/editor/issues/${data.week}/overrides?${query(data)}`;
}

/** A form of one story action: hidden fields, then a button naming the story for screen readers. */
function actionForm(
  data: IssuePageData,
  label: string,
  title: string,
  fields: Record<string, string>,
  options: { hint?: string; key: string },
): SafeHtml {
  return html`<form class="inline" method="post" action="${overrideAction(data)}" data-inplace>${Object.entries(
    fields,
  ).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`,
  )}<button type="submit" data-key="${options.key}"${forStory(label, title)}${options.hint ? html` title="${options.hint}"` : ''}>${label}</button></form>`;
}

/** Which earlier story an update continues, where, and what is new since. */
function updateLine(update: IssueStoryUpdate): SafeHtml {
  const count = update.newEvents.length;
  return html`<div class="update-of">Update of <a href="/editor/issues/${encodeURIComponent(update.week)}">"${update.title}"</a> (${update.week}, story ${update.storyId}) · ${count === 0 ? 'no new dated events' : `${count} new ${count === 1 ? 'event' : 'events'} since ${update.since ?? update.week}: ${update.newEvents.map((e) => `${e.date} ${e.event}`).join('; ')}`}</div>`;
}

function sectionBlock(
  data: IssuePageData,
  section: IssueSection,
  inSet: boolean,
  frozen: boolean,
  overrides: OverrideView[],
): SafeHtml {
  const candidates = data.candidates.get(section.segment.id) ?? [];
  const segment = String(section.segment.id);
  const count = section.stories.length;
  const dropPlace = new Map(overrides.filter((o) => o.kind === 'drop').map((o) => [o.storyId, o.position]));
  return html`<details class="segment" id="segment-${section.segment.slug}" data-segment="${section.segment.slug}"${inSet ? html` open` : ''}>
<summary><strong>${section.segment.name}</strong> <span class="muted">${section.skipped ? `skipped: ${section.skipReason ?? ''}` : `${count} stories`}${overrides.length > 0 ? ` · ${overrides.length} override${overrides.length === 1 ? '' : 's'}` : ''}</span></summary>
<ol class="stories">${section.stories.map((item, index) => {
    const title = item.story.title;
    const key = (action: string) => `${segment}:${item.story.id}:${action}`;
    return html`<li class="story" data-story="${item.story.id}" id="story-${segment}-${item.story.id}">
<div class="title">${item.update ? html`<span class="badge update" title="continues a story sent in an earlier issue">update</span> ` : ''}${title}${data.retracted?.has(item.story.id) ? html` <span class="badge retracted bad" title="withdrawn by its publisher after this issue went out">retracted</span>` : ''}</div>
${item.update ? updateLine(item.update) : ''}
<div class="muted">${item.story.source.name} · score ${item.score.toFixed(3)}${item.fallback ? ' · fallback' : ''}${item.alsoCoveredBy.length > 0 ? ` · also covered by ${item.alsoCoveredBy.join(', ')}` : ''}</div>
<div class="muted score-parts">${Object.entries(item.scoreBreakdown)
      .filter(([, value]) => value !== 0)
      .map(([part, value]) => `${part} ${value.toFixed(3)}`)
      .join(' · ')}</div>
${item.reasons.length > 0 ? html`<ul class="reasons">${item.reasons.map((reason) => html`<li>${reason}</li>`)}</ul>` : ''}
${
  frozen
    ? ''
    : html`<div class="actions">
${index > 0 ? actionForm(data, 'Up', title, { action: 'pin', story: item.story.id, segment, position: String(index - 1) }, { key: key('up'), hint: `pin at place ${index}` }) : ''}
${index < count - 1 ? actionForm(data, 'Down', title, { action: 'pin', story: item.story.id, segment, position: String(index + 1) }, { key: key('down'), hint: `pin at place ${index + 2}` }) : ''}
${actionForm(data, 'Boost', title, { action: 'boost', story: item.story.id, segment, boost: '0.2' }, { key: key('boost'), hint: 'add 0.2 to the score' })}
${actionForm(data, 'Drop', title, { action: 'drop', story: item.story.id, segment, held: String(index) }, { key: key('drop'), hint: 'take it out of this segment (Undo puts it back)' })}
${
  count > 1
    ? html`<form class="inline move" method="post" action="${overrideAction(data)}" data-inplace><input type="hidden" name="action" value="move"><input type="hidden" name="story" value="${item.story.id}"><input type="hidden" name="segment" value="${segment}"><label>Move to position <input type="number" name="place" min="1" max="${count}" value="${index + 1}" required inputmode="numeric"${forStory(`Move to position (1 to ${count})`, title)}></label> <button type="submit" data-key="${key('move')}"${forStory('Move', title)}>Move</button></form>`
    : ''
}
</div>`
}</li>`;
  })}</ol>
${overrides.length > 0 ? html`<h3>Overrides in ${section.segment.name}</h3>${overrideList(data, overrides, frozen)}` : ''}
${
  candidates.length > 0
    ? html`<h3>Not picked</h3><ul class="candidates">${candidates.map((c) => {
        // A dropped story pinned again goes back to the place it held, not to the end.
        const place = dropPlace.get(c.storyId) ?? count;
        const key = (action: string) => `${segment}:${c.storyId}:${action}`;
        return html`<li data-candidate="${c.storyId}"><strong>${c.title}</strong> <span class="muted">${c.sourceName} · score ${c.score.toFixed(3)}</span>
${c.reasons.length > 0 ? html`<br><span class="muted">${c.reasons.join('; ')}</span>` : ''}
${
  frozen
    ? ''
    : html`<div class="actions">${actionForm(data, `Pin at place ${Math.min(place, count) + 1}`, c.title, { action: 'pin', story: c.storyId, segment, position: String(place) }, { key: key('pin') })}
${actionForm(data, 'Boost', c.title, { action: 'boost', story: c.storyId, segment, boost: '0.2' }, { key: key('boost'), hint: 'add 0.2 to the score' })}</div>`
}</li>`;
      })}</ul>`
    : ''
}
</details>`;
}

function overrideText(o: OverrideView): SafeHtml {
  const what =
    o.kind === 'pin'
      ? `Pinned at place ${(o.position ?? 0) + 1}`
      : o.kind === 'drop'
        ? 'Dropped'
        : `Boosted by ${o.boost ?? 0}`;
  return html`${what}: “${o.title}”`;
}

/** Each override with when and from where (editor, CLI, or unknown for older rows), and its Undo. */
function overrideList(data: IssuePageData, overrides: readonly OverrideView[], frozen: boolean): SafeHtml {
  return html`<ul class="overrides">${overrides.map(
    (
      o,
    ) => html`<li data-override="${o.id}" data-kind="${o.kind}">${overrideText(o)} <span class="muted">· <span class="created-by">${o.createdBy ?? 'unknown'}</span>, <time datetime="${o.createdAt.toISOString()}">${formatDateTime(o.createdAt, data.timeZone)}</time></span>
${frozen ? '' : undoForm(data, o)}</li>`,
  )}</ul>`;
}

function undoForm(data: IssuePageData, o: OverrideView): SafeHtml {
  const label = o.kind === 'pin' ? 'Unpin' : o.kind === 'drop' ? 'Undo drop' : 'Undo boost';
  return html`<form class="inline" method="post" action="${overrideAction(data)}" data-inplace><input type="hidden" name="action" value="undo"><input type="hidden" name="override" value="${o.id}"><button type="submit" data-key="undo:${o.id}"${o.segmentId === null ? '' : html` data-focus-after="${o.segmentId}:${o.storyId}:drop"`}${forStory(label, o.title)}>${label}</button></form>`;
}

/** What the last form changed, with its Undo, at the top of the list (where focus goes after a drop). */
function lastChange(data: IssuePageData, frozen: boolean): SafeHtml {
  const change = data.lastChange;
  if (!change || frozen) return html``;
  return html`<div class="last-change" id="last-change">${overrideText(change)}. ${undoForm(data, change)}</div>`;
}

function testSend(data: IssuePageData): SafeHtml {
  const back = query(data);
  return html`<section class="test-send" id="test-send" aria-labelledby="test-heading">
<h2 id="test-heading">Test</h2>
${
  data.testRecipients.length === 0
    ? html`<p class="muted">Set TEST_RECIPIENTS to send yourself a test.</p>`
    : html`<form method="post" action="/editor/issues/${data.week}/test?${back}"><label>Send test to
<select name="recipient">${data.testRecipients.map((address) => html`<option>${address}</option>`)}</select></label>
<button type="submit" id="send-test">Send test</button> <span class="muted">[TEST] subject, no tracking, not counted</span></form>`
}
</section>`;
}

/** "Reading time per segment set": read time, HTML size, and every story or developing item left out and why. */
function readingBudgetSection(data: IssuePageData): SafeHtml {
  const rows = data.readingBudget;
  if (rows.length === 0) return html``;
  return html`<section id="reading-budget-section" data-swap aria-labelledby="reading-budget-heading">
<h2 id="reading-budget-heading">Reading time per segment set</h2>
<table class="cards" id="reading-budget"><thead><tr><th>Segment set</th><th class="num">Read time</th><th class="num">HTML</th><th>Left out</th></tr></thead>
<tbody>${rows.map(
    (row) =>
      html`<tr data-segments="${row.segmentKey}"><td data-label="Segment set">${row.label}</td><td class="num" data-label="Read time">${row.minutes} min</td><td class="num" data-label="HTML">${(row.htmlBytes / 1024).toFixed(1)} KB</td><td data-label="Left out">${
        row.leftOut.length === 0
          ? html`<span class="muted">nothing</span>`
          : html`<ul>${row.leftOut.map(
              (item) =>
                html`<li>${item.title} <span class="muted">(${item.kind === 'developing' ? 'developing, ' : ''}${item.reason === 'size' ? 'size limit' : 'reading time'})</span></li>`,
            )}</ul>`
      }</td></tr>`,
  )}</tbody></table>
</section>`;
}

function linkCheckTable(results: readonly LinkCheck[]): SafeHtml {
  const bad = results.filter((r) => !r.ok).length;
  return html`<div id="link-check"><p class="${bad > 0 ? 'bad' : 'good'}">${bad > 0 ? `${bad} of ${results.length} links failed` : `All ${results.length} links answered`}</p>
<table><thead><tr><th>Link</th><th>Result</th></tr></thead><tbody>${results.map(
    (r) =>
      html`<tr><td class="url">${r.url}</td><td class="${r.ok ? 'good' : 'bad'}">${r.ok ? 'ok' : 'failed'}${r.status !== null ? ` ${r.status}` : ''}${r.note ? ` — ${r.note}` : ''}</td></tr>`,
  )}</tbody></table></div>`;
}

/** The rollout of a local-time send by hour: one row per hour deliveries come due. */
function rolloutTable(hours: readonly RolloutHour[]): SafeHtml {
  if (!hours.some((h) => h.hour !== null)) return html``;
  return html`<details id="rollout"><summary>Rollout by hour (UTC): sent / due</summary>
<table><thead><tr><th>hour</th><th>sent</th><th>due</th></tr></thead><tbody>${hours.map(
    (h) =>
      html`<tr><td>${h.hour ? h.hour.toISOString().slice(0, 13).replace('T', ' ') : 'at once'}</td><td>${h.sent}</td><td>${h.sent + h.queued + h.other}</td></tr>`,
  )}</tbody></table></details>`;
}

/** Several relays: how many messages each one carried, so a relay taken out shows as falling behind. */
function relayTable(relays: ReadonlyArray<{ relay: string; sent: number }>): SafeHtml {
  if (relays.length === 0) return html``;
  const total = relays.reduce((sum, r) => sum + r.sent, 0);
  return html`<details id="relays" open><summary>Sent per relay</summary>
<table><thead><tr><th>relay</th><th>sent</th><th>share</th></tr></thead><tbody>${relays.map(
    (r) =>
      html`<tr><td>${r.relay}</td><td>${r.sent}</td><td>${total > 0 ? `${Math.round((r.sent / total) * 100)} %` : ''}</td></tr>`,
  )}</tbody></table></details>`;
}
