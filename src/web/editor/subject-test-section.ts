import { PREHEADER_OVERRIDE_MAX, SUBJECT_OVERRIDE_MAX } from '../../issues/issue-writing.ts';
import type { SubjectVariantText } from '../../issues/subject-variants.ts';
import type { SubjectTestReport } from '../../reports/subject-test-report.ts';
import { html, type SafeHtml } from '../html.ts';
import { formatDateTime } from './editor-layout.ts';
import type { IssuePageData } from './issue-page.ts';

/** What the issue page shows of a subject test: the variants written, and the test once a send started it. */
export interface SubjectTestView {
  variants: SubjectVariantText[];
  report: SubjectTestReport | null;
}

const percent = (value: number): string => `${(value * 100).toFixed(1)} %`;

/**
 * "Subject test": variants B and C (A is the subject without a test), then each group's live numbers,
 * when the winner is decided, and the decision with its reason. A list, not a table: nothing scrolls
 * sideways on a phone. A draft has the form that writes B and C; past the draft, nothing without variants.
 */
export function subjectTestSection(data: IssuePageData): SafeHtml {
  const view = data.subjectTest ?? { variants: [], report: null };
  const draft = data.status === 'draft';
  if (!draft && view.variants.length === 0 && !view.report) return html``;
  const { report } = view;
  const subjectOf = (variant: string): string | null =>
    variant === 'A'
      ? (data.writing.subject ?? null)
      : (view.variants.find((v) => v.variant === variant)?.subject ?? null);
  const variants = report
    ? report.variants.map((v) => v.variant)
    : view.variants.length > 0
      ? ['A', ...view.variants.map((v) => v.variant)]
      : [];
  return html`<section class="subject-test" id="subject-test" aria-labelledby="subject-test-heading">
<h2 id="subject-test-heading">Subject test</h2>
<p class="muted">${
    report
      ? html`${percent(report.share)} of the tracked readers got a variant; ${report.held} readers (the rest, and every untracked reader) ${report.decidedAt ? 'get' : 'wait for'} the winner.`
      : html`Up to two more subjects: when the send starts, a share of the tracked readers gets A, B or C at once; the rest gets the winner by human click rate, decided once after the test hours (else A).`
  }</p>
${
  variants.length > 0
    ? html`<ul class="variants">${variants.map((variant) => {
        const figures = report?.variants.find((v) => v.variant === variant);
        const won = report?.winner === variant;
        return html`<li${won ? html` class="winner"` : ''}><strong>${variant}${won ? ' (winner)' : ''}</strong> <span class="subject-text">${subjectOf(variant) ?? '(each segment set’s own subject)'}</span>${
          figures
            ? html`<br><span class="figures">${figures.delivered} delivered · ${figures.humanClickers} human clickers (${percent(figures.humanClickRate)}) · ${figures.humanOpeners} human openers (${percent(figures.humanOpenRate)})${figures.pValue !== undefined ? ` · p = ${figures.pValue.toFixed(4)}` : ''}</span>`
            : ''
        }</li>`;
      })}</ul>`
    : ''
}
${draft ? variantForm(data.week, view.variants) : ''}
${
  report
    ? report.decidedAt
      ? html`<p id="subject-decision"><strong>Decided ${formatDateTime(report.decidedAt, data.timeZone)}:</strong> ${report.reason ?? ''}</p>`
      : html`<p id="subject-decision">The winner is decided ${formatDateTime(report.decideAt, data.timeZone)}.</p>`
    : ''
}
</section>`;
}

/** The draft's form: subject and preheader of B and C (an empty subject removes that variant). */
function variantForm(week: string, variants: readonly SubjectVariantText[]): SafeHtml {
  const fields = (['B', 'C'] as const).map((variant) => {
    const text = variants.find((v) => v.variant === variant);
    return html`<label for="subject-${variant}">Subject ${variant} <span class="muted">(empty: no variant ${variant})</span></label>
<input id="subject-${variant}" name="subject-${variant}" maxlength="${String(SUBJECT_OVERRIDE_MAX)}" value="${text?.subject ?? ''}">
<label for="preheader-${variant}">Preheader ${variant} <span class="muted">(empty: A’s)</span></label>
<input id="preheader-${variant}" name="preheader-${variant}" maxlength="${String(PREHEADER_OVERRIDE_MAX)}" value="${text?.preheader ?? ''}">`;
  });
  return html`<form method="post" action="/editor/issues/${week}/subject-variants" class="writing-form">
${fields}
<p><button type="submit" id="save-variants">Save subject variants</button></p>
</form>`;
}
