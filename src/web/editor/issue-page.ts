import type { IssueStatus } from '../../db/database.ts';
import type { RolloutHour } from '../../delivery/delivery.repository.ts';
import type { IssueSection } from '../../issues/issue-content.ts';
import type { LeftOut } from '../../render/recap-outline.ts';
import type { AudienceSegmentSet } from '../../reports/segment-sets.ts';
import { segmentSetFromKey } from '../../stories/segment-set.ts';
import { html, type SafeHtml } from '../html.ts';
import { formatDateTime, statusBadge } from './editor-layout.ts';
import { GMAIL_CLIP_BYTES, type PreviewView, previewViews } from './email-preview.ts';
import type { LinkCheck } from './link-check.ts';

/** A story that competed for a segment and was not picked. */
export interface CandidateView {
  storyId: string;
  title: string;
  sourceName: string;
  score: number;
  reasons: string[];
}

export interface IssuePageData {
  week: string;
  status: IssueStatus;
  statusReason: string | null;
  /** Local-time sends: deliveries by the hour (UTC) they come due, and how many of them went out. */
  rollout?: RolloutHour[];
  approvedAt: Date | null;
  timeZone: string;
  /** The segment set shown, '+'-joined slugs. */
  segmentKey: string;
  segmentSets: Array<AudienceSegmentSet & { label: string }>;
  view: PreviewView;
  subject: string;
  preheader: string;
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
}

export interface ReadingBudgetRow {
  segmentKey: string;
  label: string;
  minutes: number;
  htmlBytes: number;
  leftOut: LeftOut[];
}

/** "Reading time per segment set": read time, HTML size, and every story or developing item left out and why. */
function readingBudgetTable(rows: ReadingBudgetRow[]): SafeHtml {
  if (rows.length === 0) return html``;
  return html`<h3>Reading time per segment set</h3>
<table id="reading-budget"><thead><tr><th>Segment set</th><th class="num">Read time</th><th class="num">HTML</th><th>Left out</th></tr></thead>
<tbody>${rows.map(
    (row) =>
      html`<tr data-segments="${row.segmentKey}"><td>${row.label}</td><td class="num">${row.minutes} min</td><td class="num">${(row.htmlBytes / 1024).toFixed(1)} KB</td><td>${
        row.leftOut.length === 0
          ? html`<span class="muted">nothing</span>`
          : html`<ul>${row.leftOut.map(
              (item) =>
                html`<li>${item.title} <span class="muted">(${item.kind === 'developing' ? 'developing, ' : ''}${item.reason === 'size' ? 'size limit' : 'reading time'})</span></li>`,
            )}</ul>`
      }</td></tr>`,
  )}</tbody></table>`;
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

/** The preview and selection page of one issue: pure, everything escaped. */
export function issueBody(data: IssuePageData): SafeHtml {
  const frozen = data.status !== 'draft';
  const back = query(data);
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  const sizeClass =
    data.htmlBytes > GMAIL_CLIP_BYTES ? 'bad' : data.htmlBytes > GMAIL_CLIP_BYTES * 0.8 ? 'warn' : 'good';
  const shown = new Set(segmentSetFromKey(data.segmentKey).slugs);
  return html`<p>${statusBadge(data.status)}
${data.approvedAt ? html` approved ${formatDateTime(data.approvedAt, data.timeZone)}` : ''}
${data.statusReason ? html` <span class="muted">${data.statusReason}</span>` : ''}
· <a href="/editor/issues/${data.week}/stats">Stats</a></p>
${rolloutTable(data.rollout ?? [])}
${data.notes.length > 0 ? html`<ul class="warn">${data.notes.map((note) => html`<li>${note}</li>`)}</ul>` : ''}
<div class="cols">
<section class="col" aria-label="Email preview">
<form method="get" action="/editor/issues/${data.week}">
<label>Segment set
<select name="segments">${data.segmentSets.map(
    (set) =>
      html`<option value="${set.segmentKey}"${set.segmentKey === data.segmentKey ? html` selected` : ''}>${set.label}${set.subscribers > 0 ? ` (${set.subscribers} readers)` : ''}</option>`,
  )}</select></label>
<input type="hidden" name="view" value="${data.view}">
<button type="submit">Show</button>
</form>
<nav class="tabs" aria-label="Preview">${previewViews.map(
    (view) =>
      html`<a href="/editor/issues/${data.week}?${query(data, { view })}"${view === data.view ? html` aria-current="page"` : ''}>${viewLabels[view]}</a>`,
  )}</nav>
<div class="kv">
<span>Subject</span><strong id="subject">${data.subject}</strong>
<span>Preheader</span><span id="preheader">${data.preheader || '(none)'}</span>
<span>HTML size</span><span id="html-size" class="${sizeClass}">${kb(data.htmlBytes)} of Gmail’s ${kb(GMAIL_CLIP_BYTES)} limit${data.htmlBytes > GMAIL_CLIP_BYTES ? ' — Gmail will clip this message' : ''}</span>
<span>Links</span><span>${data.linkCount} <form class="inline" method="post" action="/editor/issues/${data.week}/check-links?${back}"><button type="submit">Check links</button></form></span>
</div>
${data.linkCheck ? linkCheckTable(data.linkCheck) : ''}
${readingBudgetTable(data.readingBudget)}
<iframe class="preview ${data.view}" title="The email as ${viewLabels[data.view]}" src="/editor/issues/${data.week}/email?${back}"></iframe>
</section>
<section class="col" aria-label="Selection">
<h2>Approval and test</h2>
${
  frozen
    ? html`<p>This issue is ${data.status}: its selection is frozen.</p>`
    : html`<form method="post" action="/editor/issues/${data.week}/approve?${back}"><button type="submit" id="approve">Approve ${data.week}</button> <span class="muted">freezes the selection; with REQUIRE_APPROVAL the schedule sends only approved issues</span>
${emptySegmentsConsent(data.sections.filter((section) => section.skipped).map((section) => section.segment.name))}</form>`
}
${
  data.testRecipients.length === 0
    ? html`<p class="muted">Set TEST_RECIPIENTS to send yourself a test.</p>`
    : html`<form method="post" action="/editor/issues/${data.week}/test?${back}"><label>Send test to
<select name="recipient">${data.testRecipients.map((address) => html`<option>${address}</option>`)}</select></label>
<button type="submit" id="send-test">Send test</button> <span class="muted">[TEST] subject, no tracking, not counted</span></form>`
}
<h2>Selected stories</h2>
${data.sections.map((section) => sectionBlock(data, section, shown.has(section.segment.slug), frozen, back))}
</section>
</div>`;
}

function sectionBlock(
  data: IssuePageData,
  section: IssueSection,
  inSet: boolean,
  frozen: boolean,
  back: string,
): SafeHtml {
  const candidates = data.candidates.get(section.segment.id) ?? [];
  const action = `/editor/issues/${data.week}/overrides?${back}`;
  const button = (label: string, fields: Record<string, string>, title?: string) =>
    frozen
      ? ''
      : html`<form class="inline" method="post" action="${action}">${Object.entries(fields).map(
          ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`,
        )}<button type="submit"${title ? html` title="${title}"` : ''}>${label}</button></form>`;
  const segment = String(section.segment.id);
  return html`<details class="segment" data-segment="${section.segment.slug}"${inSet ? html` open` : ''}>
<summary><strong>${section.segment.name}</strong> <span class="muted">${section.skipped ? `skipped: ${section.skipReason ?? ''}` : `${section.stories.length} stories`}</span></summary>
<ol class="stories">${section.stories.map(
    (item, index) => html`<li class="story" data-story="${item.story.id}">
<div class="title">${item.story.title}${data.retracted?.has(item.story.id) ? html` <span class="badge retracted bad" title="withdrawn by its publisher after this issue went out">retracted</span>` : ''}</div>
<div class="muted">${item.story.source.name} · score ${item.score.toFixed(3)}${item.fallback ? ' · fallback' : ''}${item.alsoCoveredBy.length > 0 ? ` · also covered by ${item.alsoCoveredBy.join(', ')}` : ''}</div>
<div class="muted">${Object.entries(item.scoreBreakdown)
      .filter(([, value]) => value !== 0)
      .map(([part, value]) => `${part} ${value.toFixed(3)}`)
      .join(' · ')}</div>
${item.reasons.length > 0 ? html`<ul>${item.reasons.map((reason) => html`<li>${reason}</li>`)}</ul>` : ''}
<div class="actions">
${index > 0 ? button('Pin first', { action: 'pin', story: item.story.id, segment, position: '0' }) : ''}
${index > 0 ? button('Up', { action: 'pin', story: item.story.id, segment, position: String(index - 1) }) : ''}
${index < section.stories.length - 1 ? button('Down', { action: 'pin', story: item.story.id, segment, position: String(index + 1) }) : ''}
${button('Boost', { action: 'boost', story: item.story.id, segment, boost: '0.2' }, 'add 0.2 to the score')}
${button('Drop', { action: 'drop', story: item.story.id, segment })}
</div></li>`,
  )}</ol>
${
  candidates.length > 0
    ? html`<h3>Not picked</h3><ul class="candidates">${candidates.map(
        (
          c,
        ) => html`<li data-candidate="${c.storyId}"><strong>${c.title}</strong> <span class="muted">${c.sourceName} · score ${c.score.toFixed(3)}</span>
${c.reasons.length > 0 ? html`<br><span class="muted">${c.reasons.join('; ')}</span>` : ''}
${button('Pin', { action: 'pin', story: c.storyId, segment, position: String(section.stories.length) })}
${button('Boost', { action: 'boost', story: c.storyId, segment, boost: '0.2' }, 'add 0.2 to the score')}</li>`,
      )}</ul>`
    : ''
}
</details>`;
}

function linkCheckTable(results: readonly LinkCheck[]): SafeHtml {
  const bad = results.filter((r) => !r.ok).length;
  return html`<div id="link-check"><p class="${bad > 0 ? 'bad' : 'good'}">${bad > 0 ? `${bad} of ${results.length} links failed` : `All ${results.length} links answered`}</p>
<table><thead><tr><th>Link</th><th>Result</th></tr></thead><tbody>${results.map(
    (r) =>
      html`<tr><td>${r.url}</td><td class="${r.ok ? 'good' : 'bad'}">${r.ok ? 'ok' : 'failed'}${r.status !== null ? ` ${r.status}` : ''}${r.note ? ` — ${r.note}` : ''}</td></tr>`,
  )}</tbody></table></div>`;
}

/** The rollout of a local-time send by hour: one row per hour deliveries come due. */
function rolloutTable(hours: readonly RolloutHour[]) {
  if (!hours.some((h) => h.hour !== null)) return '';
  return html`<details id="rollout"><summary>Rollout by hour (UTC): sent / due</summary>
<table><thead><tr><th>hour</th><th>sent</th><th>due</th></tr></thead><tbody>${hours.map(
    (h) =>
      html`<tr><td>${h.hour ? h.hour.toISOString().slice(0, 13).replace('T', ' ') : 'at once'}</td><td>${h.sent}</td><td>${h.sent + h.queued + h.other}</td></tr>`,
  )}</tbody></table></details>`;
}

/** Approval with empty segments is a choice the editor makes knowingly: which segments, and why. */
function emptySegmentsConsent(emptySegments: string[]) {
  if (emptySegments.length === 0) return '';
  return html`<p class="muted">No stories for ${emptySegments.join(', ')}: approval is refused unless you accept that.</p>
<label><input type="checkbox" name="allow_empty" id="allow-empty"> Approve even so: these readers get no section for it</label><br>
<label>Reason <input name="empty_reason" maxlength="300" placeholder="e.g. a quiet week for research"></label>`;
}
