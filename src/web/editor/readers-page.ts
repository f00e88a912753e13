import type { Segment } from '../../stories/segment.ts';
import {
  READER_STATUSES,
  type ReaderFilter,
  type ReaderPage,
  type ReaderRow,
  type ReaderStatus,
} from '../../subscribers/reader-directory.ts';
import type { ReaderImportJob } from '../../subscribers/reader-import.repository.ts';
import type { ReaderImportReport } from '../../subscribers/reader-import-job.ts';
import { html, type SafeHtml } from '../html.ts';
import { formatDateTime, statusBadge } from './editor-layout.ts';

/**
 * The Readers pages' own styles: tables become stacked cards on a phone, and wide tables scroll inside
 * their own focusable region, so no page scrolls sideways at 375 px. (Also lets the editor's top bar
 * wrap on a phone, where its links no longer fit on one line.)
 */
export const readersStyle = html`<style>
header.top{flex-wrap:wrap;row-gap:.3rem}
.scroll{overflow-x:auto;max-width:100%}
.filters{display:flex;flex-wrap:wrap;gap:.5rem .8rem;align-items:flex-end;background:var(--card);border:1px solid var(--line);padding:.6rem .8rem}
.filters label,.stack label{display:flex;flex-direction:column;font-size:.85rem;gap:.15rem}
.filters input[type=search]{min-width:14rem}
input,select,textarea{font:inherit;max-width:100%;box-sizing:border-box}
.counts{display:flex;flex-wrap:wrap;gap:.3rem .9rem;margin:.4rem 0;padding:0;list-style:none}
.actions-bar{display:flex;flex-wrap:wrap;gap:.5rem 1rem;margin:.6rem 0}
nav.pages{display:flex;gap:1rem;margin:.6rem 0}
.panel{background:var(--card);border:1px solid var(--line);padding:.6rem .8rem;margin:.6rem 0;max-width:46rem}
.panel.danger{border-color:#fecaca}
.stack{display:flex;flex-direction:column;gap:.5rem;align-items:flex-start}
.stack textarea,.stack input[type=text],.stack input[type=email]{width:min(30rem,100%)}
fieldset{border:1px solid #d1d5db;margin:.3rem 0;padding:.3rem .6rem}
.stack fieldset label,label.check{flex-direction:row;align-items:center;gap:.4rem;font-size:1rem;display:flex}
td.when{white-space:nowrap}
progress{width:min(30rem,100%);height:1.2rem}
pre.problems{white-space:pre-wrap;word-break:break-word;background:var(--card);border:1px solid var(--line);padding:.5rem;max-width:100%}
td.detail{max-width:28rem;word-break:break-word}
a.reader{word-break:break-all}
h1{word-break:break-word}
@media (max-width:640px){
 main{padding:.8rem}
 .filters input[type=search]{min-width:0;width:100%}
 .filters label{flex:1 1 100%}
}
</style>`;

const statusLabels: Record<ReaderStatus, string> = {
  active: 'Active',
  pending: 'Not confirmed',
  unsubscribed: 'Unsubscribed',
  bounced: 'Bounced',
  complained: 'Complained',
  sunset: 'Paused for inactivity',
};

/** The query string of a filter (and an optional cursor): links keep the filter as they page or export. */
export function filterQuery(filter: ReaderFilter, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  if (filter.search !== null) params.set('q', filter.search);
  if (filter.segmentId !== null) params.set('segment', String(filter.segmentId));
  if (filter.status !== null) params.set('status', filter.status);
  if (filter.tracked !== null) params.set('tracked', filter.tracked ? 'yes' : 'no');
  if (filter.sunset !== null) params.set('sunset', filter.sunset);
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  const text = params.toString();
  return text ? `?${text}` : '';
}

function option(value: string, label: string, selected: boolean): SafeHtml {
  return html`<option value="${value}"${selected ? html` selected` : ''}>${label}</option>`;
}

function filtersForm(filter: ReaderFilter, segments: readonly Segment[]): SafeHtml {
  return html`<form class="filters" method="get" action="/editor/readers" role="search" aria-label="Find readers">
<label>Address or name<input type="search" name="q" value="${filter.search ?? ''}" minlength="3" maxlength="200" placeholder="at least 3 characters"></label>
<label>Segment<select name="segment">${option('', 'Any', filter.segmentId === null)}${segments.map((s) =>
    option(String(s.id), s.name, filter.segmentId === s.id),
  )}</select></label>
<label>Status<select name="status">${option('', 'Any', filter.status === null)}${READER_STATUSES.map((s) =>
    option(s, statusLabels[s], filter.status === s),
  )}</select></label>
<label>Tracking<select name="tracked">${option('', 'Any', filter.tracked === null)}${option('yes', 'Counted', filter.tracked === true)}${option('no', 'Not counted', filter.tracked === false)}</select></label>
<label>Sunset<select name="sunset">${option('', 'Any', filter.sunset === null)}${option('asked', 'Asked “still want it?”', filter.sunset === 'asked')}${option('paused', 'Paused for inactivity', filter.sunset === 'paused')}</select></label>
<button type="submit">Search</button> <a href="/editor/readers">Clear</a>
</form>`;
}

function readerRow(row: ReaderRow, timeZone: string): SafeHtml {
  return html`<tr data-reader="${row.id}"><td data-label="Address"><a class="reader" href="/editor/readers/${row.id}">${row.email}</a></td><td data-label="Name">${row.name ?? ''}</td><td data-label="Status">${statusBadge(row.status)}${row.reengagementSentAt && row.status === 'active' ? html` <span class="muted">asked</span>` : ''}${row.pausedUntil && row.pausedUntil.getTime() > Date.now() ? html` <span class="muted">paused</span>` : ''}</td><td data-label="Segments">${row.segments.join(', ')}</td><td data-label="Tracking">${row.trackingEnabled ? 'counted' : 'not counted'}</td><td data-label="Since" class="when">${formatDateTime(row.createdAt, timeZone)}</td></tr>`;
}

export interface ReadersPageData {
  filter: ReaderFilter;
  segments: readonly Segment[];
  statusCounts: Record<ReaderStatus, number>;
  matches: { count: number; capped: boolean };
  page: ReaderPage;
  timeZone: string;
  /** A filter the page could not apply (too short a search…), said beside the form. */
  problem: string | null;
}

/** The Readers page: counts per status, the search and filters, one page of readers, paging, actions. */
export function readersBody(data: ReadersPageData): SafeHtml {
  const { filter, page } = data;
  const total = Object.values(data.statusCounts).reduce((a, b) => a + b, 0);
  const matched = data.matches.capped
    ? `More than ${data.matches.count.toLocaleString('en')} readers match, newest first.`
    : `${data.matches.count.toLocaleString('en')} ${data.matches.count === 1 ? 'reader matches' : 'readers match'}, newest first.`;
  return html`${readersStyle}
<ul class="counts" aria-label="Readers per status"><li><a href="/editor/readers">All: <strong>${total.toLocaleString('en')}</strong></a></li>${READER_STATUSES.map(
    (s) =>
      html`<li><a href="/editor/readers?status=${s}">${statusLabels[s]}: <strong>${data.statusCounts[s].toLocaleString('en')}</strong></a></li>`,
  )}</ul>
<div class="actions-bar"><a href="/editor/readers/add">Add a reader</a><a href="/editor/readers/import">Import a CSV list</a><a href="/editor/readers/export.csv${filterQuery(filter)}" download>Export these readers (CSV)</a></div>
${filtersForm(filter, data.segments)}
${data.problem ? html`<p class="error" role="alert">${data.problem}</p>` : ''}
<p role="status">${matched}</p>
${
  page.rows.length === 0
    ? html`<p class="muted">No reader here.</p>`
    : html`<table class="cards readers"><thead><tr><th scope="col">Address</th><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Segments</th><th scope="col">Tracking</th><th scope="col">Since</th></tr></thead>
<tbody>${page.rows.map((row) => readerRow(row, data.timeZone))}</tbody></table>`
}
<nav class="pages" aria-label="Pages">${page.previousBefore ? html`<a rel="prev" href="/editor/readers${filterQuery(filter, { before: page.previousBefore })}">← Newer</a>` : ''}${page.nextAfter ? html`<a rel="next" href="/editor/readers${filterQuery(filter, { after: page.nextAfter })}">Older →</a>` : ''}</nav>`;
}

/** The form that adds one reader, already confirmed, with the basis the operator states. */
export function addReaderBody(
  segments: readonly Segment[],
  trackingDefault: boolean,
  values: Record<string, string | string[]> = {},
): SafeHtml {
  const text = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : '');
  const chosen = new Set(
    Array.isArray(values.segment) ? values.segment : text('segment') ? [text('segment')] : [],
  );
  return html`${readersStyle}<p><a href="/editor/readers">Back to the readers</a></p>
<form class="panel stack" method="post" action="/editor/readers/add">
<p class="muted">The reader is added as confirmed: they get the next issue without a confirmation mail. Add only people who asked for it, and say how they did.</p>
<label>Address<input type="email" name="email" required maxlength="320" autocomplete="off" value="${text('email')}"></label>
<label>Name (optional)<input type="text" name="name" maxlength="200" value="${text('name')}"></label>
<fieldset><legend>Segments</legend>${segments.map(
    (s) =>
      html`<label><input type="checkbox" name="segment" value="${s.id}"${chosen.has(String(s.id)) ? html` checked` : ''}> ${s.name}</label>`,
  )}</fieldset>
<label class="check"><input type="checkbox" name="tracking" value="yes"${trackingDefault ? html` checked` : ''}> Count their opens and clicks (only with their consent)</label>
<label>How did they ask to receive it? (written to their consent log)<textarea name="basis" required minlength="5" maxlength="500" rows="3">${text('basis')}</textarea></label>
<button type="submit">Add the reader</button>
</form>`;
}

/** The CSV upload form: the same columns and rules as `recap import subscribers`. */
export function importFormBody(maxBytes: number): SafeHtml {
  return html`${readersStyle}<p><a href="/editor/readers">Back to the readers</a></p>
<form class="panel stack" method="post" action="/editor/readers/import" enctype="multipart/form-data">
<p>A CSV file with a header line: <code>email,name,segments[,timezone][,tracking]</code>; several segments separated by <code>;</code> (by name or slug); tracking <code>yes</code> or <code>no</code>. Up to ${Math.round(maxBytes / 1024 / 1024)} MB.</p>
<p class="muted">Imported readers count as confirmed. A known address keeps its status (an import never resubscribes anyone who left); erased addresses are refused. One invalid row refuses the whole file unless you tick the box below.</p>
<label>CSV file<input type="file" name="file" accept=".csv,text/csv" required></label>
<label class="check"><input type="checkbox" name="skip_invalid" value="yes"> Skip invalid rows and import the valid ones</label>
<button type="submit">Import</button>
</form>`;
}

/** The import's progress (while it runs) or its result (once over). */
export function importJobBody(job: ReaderImportJob, timeZone: string, stalled: boolean): SafeHtml {
  const over = job.finishedAt !== null;
  const percent = job.bytesTotal > 0 ? Math.floor((job.bytesRead / job.bytesTotal) * 100) : 100;
  const report = (job.report ?? null) as ReaderImportReport | null;
  const phase =
    job.status === 'writing'
      ? `Writing ${job.rowsRead.toLocaleString('en')} rows…`
      : `Reading: ${job.rowsRead.toLocaleString('en')} rows, ${percent} % of ${(job.bytesTotal / 1024).toFixed(0)} KB`;
  return html`${readersStyle}<p><a href="/editor/readers">Back to the readers</a> · <a href="/editor/readers/import">Import another file</a></p>
<p class="muted">Started ${formatDateTime(job.startedAt, timeZone)}${job.finishedAt ? `, finished ${formatDateTime(job.finishedAt, timeZone)}` : ''}.</p>
${
  over
    ? html`<div id="import-result" data-status="${job.status}"><p class="${job.status === 'done' ? 'notice' : 'error'}" role="${job.status === 'done' ? 'status' : 'alert'}">${report?.summary ?? job.status}</p>
${report && report.problems.length > 0 ? html`<h2>Problems, by line of the file</h2><pre class="problems">${report.problems.join('\n')}${report.moreProblems > 0 ? `\n… and ${report.moreProblems} more problems` : ''}</pre>` : ''}
${report && report.refused.length > 0 ? html`<h2>Refused: erased at the person’s request</h2><pre class="problems">${report.refused.join('\n')}</pre>` : ''}</div>`
    : html`<div id="import-progress" data-job="${job.id}"><p><label for="import-bar">Import progress</label></p>
<progress id="import-bar" max="100" value="${job.status === 'writing' ? 100 : percent}">${percent} %</progress>
<p id="import-phase" role="status" aria-live="polite">${stalled ? 'This import has not moved for two minutes: the server may have restarted. Nothing was written unless the result says so; start it again.' : phase}</p>
<noscript><meta http-equiv="refresh" content="2"><p class="muted">This page reloads itself every 2 seconds until the import is over.</p></noscript></div>`
}`;
}
