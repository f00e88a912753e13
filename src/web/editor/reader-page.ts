import type { ReaderFeedback } from '../../feedback/feedback.repository.ts';
import { RATING_WORDS, STORY_VOTE_WORDS } from '../../render/feedback-words.ts';
import type { Segment } from '../../stories/segment.ts';
import type { ConsentRecord, ReaderProfile } from '../../subscribers/reader-profile.ts';
import { html, type SafeHtml } from '../html.ts';
import { segmentSetLabel } from './dashboard-page.ts';
import { formatDateTime, statusBadge } from './editor-layout.ts';
import { readersStyle } from './readers-page.ts';

/** A consent record's detail as a short line (source first, then the rest as key: value). */
function detailLine(record: ConsentRecord): string {
  return Object.entries(record.detail)
    .filter(([key]) => key !== 'source')
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('; ');
}

function factsOf(reader: ReaderProfile, timeZone: string): SafeHtml {
  const when = (date: Date | null) => formatDateTime(date, timeZone) || '—';
  const paused = reader.pausedUntil && reader.pausedUntil.getTime() > Date.now();
  return html`<div class="kv panel">
<span>Name</span><span>${reader.name ?? '—'}</span>
<span>Status</span><span>${statusBadge(reader.status)}${paused ? html` <span class="warn">paused until ${when(reader.pausedUntil)}</span>` : ''}</span>
<span>Tracking</span><span>${reader.trackingEnabled ? 'opens and clicks counted' : 'not counted'}</span>
<span>Time zone</span><span>${reader.timeZone ?? 'the newsletter’s'}</span>
<span>Added</span><span>${when(reader.createdAt)}</span>
<span>Confirmed</span><span>${when(reader.confirmedAt)}</span>
${reader.unsubscribedAt ? html`<span>Unsubscribed</span><span>${when(reader.unsubscribedAt)}</span>` : ''}
${reader.softBounceCount > 0 ? html`<span>Soft bounces in a row</span><span>${reader.softBounceCount}</span>` : ''}
${reader.reengagementSentAt ? html`<span>Asked “still want it?”</span><span>${when(reader.reengagementSentAt)}</span>` : ''}
</div>`;
}

function suppressionPanel(reader: ReaderProfile, timeZone: string): SafeHtml {
  if (reader.status !== 'bounced' && reader.status !== 'complained') return html``;
  const why = reader.suppression;
  return html`<section class="panel danger" aria-labelledby="suppression"><h2 id="suppression">Suppressed: ${reader.status}</h2>
${why ? html`<p>${why.action} on ${formatDateTime(why.occurredAt, timeZone)}${detailLine(why) ? html`: <span class="muted">${detailLine(why)}</span>` : ''}</p>` : html`<p class="muted">No record says why.</p>`}
<form class="stack" method="post" action="/editor/readers/${reader.id}/unsuppress">
<label>Why may this address be mailed again? (written to the consent log)<textarea name="reason" required minlength="5" maxlength="500" rows="2"></textarea></label>
<button type="submit">Unsuppress</button>
</form></section>`;
}

function segmentsForm(reader: ReaderProfile, segments: readonly Segment[]): SafeHtml {
  const followed = new Set(reader.segmentIds);
  return html`<form class="panel stack" method="post" action="/editor/readers/${reader.id}/segments">
<fieldset><legend>Segments</legend>${segments.map(
    (s) =>
      html`<label><input type="checkbox" name="segment" value="${s.id}"${followed.has(s.id) ? html` checked` : ''}> ${s.name}</label>`,
  )}</fieldset>
<button type="submit">Save segments</button>
</form>`;
}

function actionsPanel(reader: ReaderProfile): SafeHtml {
  const subscribed = ['active', 'pending', 'sunset'].includes(reader.status);
  const weeks = [1, 2, 3, 4, 6, 8, 12];
  return html`<div class="panel stack">
<form class="stack" method="post" action="/editor/readers/${reader.id}/pause">
<label>Pause<select name="weeks"><option value="0">Resume now (no pause)</option>${weeks.map((w) => html`<option value="${w}"${w === 4 ? html` selected` : ''}>${w} ${w === 1 ? 'week' : 'weeks'}</option>`)}</select></label>
<button type="submit">Set the pause</button>
</form>
${
  subscribed
    ? html`<form method="post" action="/editor/readers/${reader.id}/unsubscribe"><button type="submit">Unsubscribe</button></form>`
    : ''
}
<p><a href="/editor/readers/${reader.id}/erase">Erase this reader…</a> <span class="muted">(asks to confirm)</span></p>
</div>`;
}

function deliveriesTable(reader: ReaderProfile, segments: readonly Segment[], timeZone: string): SafeHtml {
  const names = new Map(segments.map((segment) => [segment.slug, segment.name]));
  if (reader.deliveries.length === 0) return html`<p class="muted">No issue was sent to this reader yet.</p>`;
  return html`<table class="cards deliveries"><thead><tr><th scope="col">Issue</th><th scope="col">Segments</th><th scope="col">Delivery</th><th scope="col">Sent</th><th scope="col" class="num">Opens</th><th scope="col" class="num">Clicks</th><th scope="col" class="num">Machine events</th><th scope="col">Error</th></tr></thead>
<tbody>${reader.deliveries.map(
    (d) =>
      html`<tr data-week="${d.week}"><td data-label="Issue"><a href="/editor/issues/${d.week}">${d.week}</a></td><td data-label="Segments">${segmentSetLabel(d.segmentKey, names)}</td><td data-label="Delivery">${d.status}${d.tracked ? '' : html` <span class="muted">(untracked)</span>`}</td><td data-label="Sent">${formatDateTime(d.sentAt, timeZone)}</td><td data-label="Opens" class="num">${d.opens}</td><td data-label="Clicks" class="num">${d.clicks}</td><td data-label="Machine events" class="num">${d.machineEvents}</td><td data-label="Error" class="detail">${d.lastError ?? ''}</td></tr>`,
  )}</tbody></table>`;
}

function consentTable(reader: ReaderProfile, timeZone: string): SafeHtml {
  if (reader.consent.length === 0) return html`<p class="muted">No consent record.</p>`;
  return html`<table class="cards consent"><thead><tr><th scope="col">When</th><th scope="col">Action</th><th scope="col">Channel</th><th scope="col">Detail</th><th scope="col">From</th></tr></thead>
<tbody>${reader.consent.map(
    (c) =>
      html`<tr data-action="${c.action}"><td data-label="When">${formatDateTime(c.occurredAt, timeZone)}</td><td data-label="Action">${c.action}</td><td data-label="Channel">${typeof c.detail.source === 'string' ? c.detail.source : ''}</td><td data-label="Detail" class="detail">${detailLine(c)}</td><td data-label="From" class="detail">${c.ip ?? ''}${c.userAgent ? html` <span class="muted">${c.userAgent}</span>` : ''}</td></tr>`,
  )}</tbody></table>`;
}

function feedbackTables(feedback: ReaderFeedback, timeZone: string): SafeHtml {
  if (feedback.votes.length === 0 && feedback.ratings.length === 0)
    return html`<p class="muted">No story votes or issue ratings.</p>`;
  const votes =
    feedback.votes.length === 0
      ? ''
      : html`<table class="cards votes"><thead><tr><th scope="col">When</th><th scope="col">Issue</th><th scope="col">Story</th><th scope="col">Answer</th></tr></thead>
<tbody>${feedback.votes.map(
          (v) =>
            html`<tr data-story="${v.storyId}"><td data-label="When">${formatDateTime(v.at, timeZone)}</td><td data-label="Issue"><a href="/editor/issues/${v.week}">${v.week}</a></td><td data-label="Story">${v.title ?? v.storyId}</td><td data-label="Answer">${STORY_VOTE_WORDS[v.choice]}</td></tr>`,
        )}</tbody></table>`;
  const ratings =
    feedback.ratings.length === 0
      ? ''
      : html`<table class="cards ratings"><thead><tr><th scope="col">When</th><th scope="col">Issue</th><th scope="col">Rating</th></tr></thead>
<tbody>${feedback.ratings.map(
          (r) =>
            html`<tr data-rating-week="${r.week}"><td data-label="When">${formatDateTime(r.at, timeZone)}</td><td data-label="Issue"><a href="/editor/issues/${r.week}">${r.week}</a></td><td data-label="Rating">${RATING_WORDS[r.rating - 1]}</td></tr>`,
        )}</tbody></table>`;
  return html`${votes}${ratings}`;
}

/** One reader: facts, suppression (with unsuppress), segments, pause, unsubscribe, erase, deliveries, feedback, consent log. */
export function readerBody(
  reader: ReaderProfile,
  segments: readonly Segment[],
  timeZone: string,
  feedback: ReaderFeedback = { votes: [], ratings: [] },
): SafeHtml {
  return html`${readersStyle}<p><a href="/editor/readers">Back to the readers</a></p>
${factsOf(reader, timeZone)}
${suppressionPanel(reader, timeZone)}
<h2>Segments and actions</h2>
<div class="cols"><div class="col">${segmentsForm(reader, segments)}</div><div class="col">${actionsPanel(reader)}</div></div>
<h2>Deliveries</h2>
<p class="muted">Opens and clicks counted as a person’s; machine events are scanners, proxies and prefetches.</p>
${deliveriesTable(reader, segments, timeZone)}
<h2>Feedback</h2>
<p class="muted">“More / Less like this” under stories and “How was this issue?”, as the reader last answered them.</p>
${feedbackTables(feedback, timeZone)}
<h2>Consent log</h2>
${consentTable(reader, timeZone)}`;
}

/** The erase confirmation: the address must be typed again. */
export function eraseConfirmBody(reader: ReaderProfile): SafeHtml {
  return html`${readersStyle}<p><a href="/editor/readers/${reader.id}">Back to this reader</a></p>
<form class="panel danger stack" method="post" action="/editor/readers/${reader.id}/erase">
<p>Erasing removes this reader’s address, name, segments and consent history for good. Past issue numbers stay (their deliveries and events are kept anonymously), and the address can never be imported or signed up again.</p>
<label>Type the address to confirm<input type="text" name="confirm" required autocomplete="off" spellcheck="false"></label>
<button type="submit">Erase for good</button>
</form>`;
}
