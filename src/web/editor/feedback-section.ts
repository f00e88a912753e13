import type { IssueFeedback } from '../../feedback/feedback.repository.ts';
import { RATING_WORDS } from '../../render/feedback-words.ts';
import { meanText } from '../../reports/feedback-report.ts';
import { html, type SafeHtml } from '../html.ts';
import { segmentSetLabel } from './dashboard-page.ts';

/**
 * What readers answered: "More / Less like this" per story cast from the issue, and "How was this
 * issue?" per segment set (the set of each reader's delivery) with its mean. Answers are counted as they
 * stand: a reader who changed their mind counts once, with the later answer.
 */
export function feedbackSection(
  feedback: IssueFeedback,
  segmentNames: ReadonlyMap<string, string> = new Map(),
): SafeHtml {
  return html`<h3>Reader feedback</h3>
<p class="muted">Readers answer from the links under each story and at the end of the mail, on a page where they press a button: link scanners never vote. One answer per reader and story (or issue); a changed answer replaces the first.</p>
<h4>Votes per story</h4>
${
  feedback.votes.length === 0
    ? html`<p class="muted" data-metric="story-votes">No votes yet.</p>`
    : html`<table class="votes"><thead><tr><th>Story</th><th class="num">More like this</th><th class="num">Less like this</th></tr></thead>
<tbody>${feedback.votes.map(
        (vote) =>
          html`<tr data-story-id="${vote.storyId}"><td>${vote.title ?? vote.storyId}</td><td class="num" data-metric="more">${vote.more}</td><td class="num" data-metric="less">${vote.less}</td></tr>`,
      )}</tbody></table>`
}
<h4>Issue rating per segment set</h4>
${
  feedback.total.answers === 0
    ? html`<p class="muted" data-metric="issue-ratings">No ratings yet.</p>`
    : html`<table class="ratings"><thead><tr><th>Segment set</th>${RATING_WORDS.map((word) => html`<th class="num">${word}</th>`)}<th class="num">Answers</th><th class="num">Mean (1–3)</th></tr></thead>
<tbody>${[...feedback.ratings, feedback.total].map(
        (rating) =>
          html`<tr data-segment-key="${rating.segmentKey}"><td>${rating === feedback.total ? 'All readers' : segmentSetLabel(rating.segmentKey, segmentNames)}</td>${rating.counts.map((n) => html`<td class="num">${n}</td>`)}<td class="num">${rating.answers}</td><td class="num" data-metric="mean">${meanText(rating)}</td></tr>`,
      )}</tbody></table>`
}`;
}
