import type { IngestRun, SourceState } from '../../stories/ingest.repository.ts';
import { html, type SafeHtml } from '../html.ts';
import { formatDateTime } from './editor-layout.ts';

export interface IngestionPageData {
  timeZone: string;
  /** The ISO week being collected now. */
  week: string;
  apiEnabled: boolean;
  /** Feeds in RECAP_STORIES_URL, and any pulled before, with their last pull (null: never pulled). */
  sources: Array<{ url: string; configured: boolean; state: SourceState | null }>;
  apiRuns: IngestRun[];
  otherRuns: IngestRun[];
  perSegment: Array<{ segment: string; stories: number }>;
  minStoriesPerSegment: number;
}

const statusClass = (status: string | null | undefined) =>
  status === 'failed' || status === 'refused'
    ? 'bad'
    : status === 'imported' || status === 'unchanged'
      ? 'good'
      : '';

function counts(
  run: Pick<IngestRun, 'imported' | 'updated' | 'unchanged' | 'retracted' | 'invalid'>,
): SafeHtml {
  return html`<td class="num">${run.imported}</td><td class="num">${run.updated}</td><td class="num">${run.unchanged}</td><td class="num">${run.retracted}</td><td class="num${run.invalid > 0 ? ' warn' : ''}">${run.invalid}</td>`;
}

function runsTable(runs: readonly IngestRun[], timeZone: string, empty: string): SafeHtml {
  if (runs.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<table class="runs"><thead><tr><th>When</th><th>From</th><th>Outcome</th><th class="num">New</th><th class="num">Updated</th><th class="num">Unchanged</th><th class="num">Retracted</th><th class="num">Invalid</th><th class="num">KB</th><th>Detail</th></tr></thead>
<tbody>${runs.map(
    (run) =>
      html`<tr><td>${formatDateTime(run.finishedAt, timeZone)}</td><td>${run.source}</td><td class="${statusClass(run.status)}">${run.status}</td>${counts(run)}<td class="num">${(run.bytes / 1024).toFixed(1)}</td><td><pre>${run.detail ?? ''}</pre></td></tr>`,
  )}</tbody></table>`;
}

/** Where the stories come from and whether the week has enough: feeds, API batches, stories per segment. */
export function ingestionBody(data: IngestionPageData): SafeHtml {
  const short = data.perSegment.filter((s) => s.stories < data.minStoriesPerSegment);
  return html`<h2>This week's stories (${data.week})</h2>
${
  data.perSegment.length === 0
    ? html`<p class="muted">No segment yet: stories bring their audiences with them.</p>`
    : html`<table class="per-segment"><thead><tr><th>Segment</th><th class="num">Stories</th></tr></thead><tbody>${data.perSegment.map(
        (s) =>
          html`<tr data-segment="${s.segment}"><td>${s.segment}</td><td class="num ${s.stories < data.minStoriesPerSegment ? 'bad' : 'good'}">${s.stories}</td></tr>`,
      )}</tbody></table>
${short.length > 0 ? html`<p class="warn">Below ${data.minStoriesPerSegment} stories (MIN_STORIES_PER_SEGMENT): ${short.map((s) => s.segment).join(', ')}.</p>` : html`<p class="good">Every segment has at least ${data.minStoriesPerSegment} stories.</p>`}`
}
<h2>Feeds</h2>
${
  data.sources.length === 0
    ? html`<p class="muted">No feed is pulled (set RECAP_STORIES_URL).</p>`
    : html`<table class="sources"><thead><tr><th>Feed</th><th>Last pull</th><th>Outcome</th><th class="num">New</th><th class="num">Updated</th><th class="num">Unchanged</th><th class="num">Retracted</th><th class="num">Invalid</th><th>Last success</th><th>Detail</th></tr></thead>
<tbody>${data.sources.map(({ url, configured, state }) =>
        state
          ? html`<tr data-source="${url}"><td>${url}${configured ? '' : html` <span class="muted">(no longer configured)</span>`}</td><td>${formatDateTime(state.lastPullAt, data.timeZone)}</td><td class="${statusClass(state.lastStatus)}">${state.lastStatus ?? ''}</td>${counts(state)}<td>${formatDateTime(state.lastSuccessAt, data.timeZone)}</td><td><pre>${state.lastDetail ?? ''}</pre></td></tr>`
          : html`<tr data-source="${url}"><td>${url}</td><td colspan="9" class="muted">not pulled yet</td></tr>`,
      )}</tbody></table>`
}
<h2>API batches</h2>
${data.apiEnabled ? '' : html`<p class="muted">The API is off (set INGEST_TOKEN to accept POST /api/stories).</p>`}
${runsTable(data.apiRuns, data.timeZone, 'No batch received yet.')}
<h2>Pulls and file imports</h2>
${runsTable(data.otherRuns, data.timeZone, 'None yet.')}`;
}
