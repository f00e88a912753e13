import {
  describeComparison,
  type OrderGroupFigures,
  type PersonalOrderReport,
} from '../../reports/personal-order-report.ts';
import { html, type SafeHtml } from '../html.ts';

const percent = (value: number): string => `${(value * 100).toFixed(1)} %`;

/**
 * "Personal order": human click rate of the readers who got their own order against the holdout (kept
 * on the editorial order), with the difference and its 95 % interval, or "not enough data". A list, not
 * a table: nothing scrolls sideways on a phone. Nothing when the issue has no order groups.
 */
export function personalOrderSection(report: PersonalOrderReport | null): SafeHtml {
  if (!report) return html``;
  const group = (name: string, key: string, g: OrderGroupFigures) =>
    html`<li data-order-group="${key}"><strong>${name}</strong>: ${g.delivered} delivered · ${g.humanClickers} human clickers · click rate <span data-metric="click-rate-${key}">${percent(g.humanClickRate)}</span></li>`;
  return html`<section class="personal-order" id="personal-order" aria-labelledby="personal-order-heading">
<h3 id="personal-order-heading">Personal order against the holdout</h3>
<ul>
${group('Personal order', 'personal', report.personal)}
${group('Holdout (editorial order)', 'holdout', report.holdout)}
</ul>
<p data-metric="personal-order-difference">Difference in human click rate: ${describeComparison(report)}.</p>
<p class="muted">Tracked readers are split by a stable hash when the send starts: the holdout share (PERSONAL_ORDER_HOLDOUT) keeps the editorial order, the rest get their own order of the compact stories when they have a history (${report.reordered} copies this issue). Untracked readers are in neither group. The interval is Newcombe’s score interval for a difference of two proportions.</p>
</section>`;
}
