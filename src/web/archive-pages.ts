import type { PublicIssue } from '../render/public-issue.ts';
import type { CardOutline } from '../render/recap-outline.ts';
import { html, type SafeHtml } from './html.ts';

/** What every public page says about the recap and where its links go. */
export interface PublicSite {
  /** PUBLIC_URL, no trailing slash. */
  publicUrl: string;
  /** The recap's name (RECAP_FROM_NAME). */
  name: string;
  /** RECAP_DESCRIPTION. */
  description: string;
  /** "every Monday", or null when the schedule names no weekly day. */
  cadence: string | null;
  /** ARCHIVE_PUBLIC. */
  archivePublic: boolean;
}

/** The archive's own path for a week's public page. */
export function publicIssuePath(week: string): string {
  return `/archive/${encodeURIComponent(week)}`;
}

/** Canonical link, description and OpenGraph tags (and the feed's link while the archive is public). */
export function publicHead(
  site: PublicSite,
  meta: { title: string; description: string; path: string; type: 'website' | 'article' },
): SafeHtml {
  const url = `${site.publicUrl}${meta.path}`;
  return html`<link rel="canonical" href="${url}">
<meta name="description" content="${meta.description}">
<meta property="og:site_name" content="${site.name}">
<meta property="og:type" content="${meta.type}">
<meta property="og:title" content="${meta.title}">
<meta property="og:description" content="${meta.description}">
<meta property="og:url" content="${url}">
${site.archivePublic ? html`<link rel="alternate" type="application/atom+xml" title="${site.name}" href="${site.publicUrl}/archive/feed.xml">\n` : ''}`;
}

/** The box at the foot of every archive page: what the recap is, when it comes, a subscribe button. */
export function subscribeCallToAction(site: PublicSite): SafeHtml {
  const when = site.cadence ? `Free, ${site.cadence}, by email.` : 'Free, by email.';
  // Styled inline: it also closes the mailed copy, whose head has none of the page's classes.
  return html`<aside aria-labelledby="cta-heading" style="margin:2.5rem auto 1rem;padding:1rem 1.25rem;border:1px solid #8886;border-radius:8px">
<h2 id="cta-heading" style="margin:0 0 .25rem;font-size:1.2rem">Get ${site.name} in your inbox</h2>
<p style="margin:.25rem 0 .75rem">${site.description} ${when}</p>
<a href="/subscribe" style="display:inline-block;padding:.5rem 1rem;border-radius:6px;background:#1d4ed8;color:#fff;font-weight:600;text-decoration:none">Subscribe</a>
</aside>
`;
}

/** The archive index: issues newest first with date range, subject and lead headlines, and a pager. */
export function archiveIndexBody(
  issues: readonly PublicIssue[],
  pager: { page: number; pages: number },
): SafeHtml {
  if (issues.length === 0) return html`<p>No issue has been sent yet.</p>`;
  const link = (page: number) => (page === 1 ? '/archive' : `/archive?page=${page}`);
  return html`<ol class="issues" reversed>
${issues.map(
  (issue) => html`<li>
<p class="kicker"><time datetime="${issue.week}">${issue.weekRange}</time></p>
<h2 style="margin:0"><a href="${publicIssuePath(issue.week)}">${issue.subject}</a></h2>
${issue.leadHeadlines.length > 0 ? html`<ul>${issue.leadHeadlines.map((headline) => html`<li>${headline}</li>`)}</ul>` : ''}
</li>`,
)}
</ol>
${
  pager.pages > 1
    ? html`<nav class="pager" aria-label="Pages">
<span>${pager.page > 1 ? html`<a href="${link(pager.page - 1)}" rel="prev">Newer issues</a>` : ''}</span>
<span class="muted">Page ${pager.page} of ${pager.pages}</span>
<span>${pager.page < pager.pages ? html`<a href="${link(pager.page + 1)}" rel="next">Older issues</a>` : ''}</span>
</nav>`
    : ''
}`;
}

/** One issue for a visitor: every section of its editions, a topic menu of anchors, no personal text. */
export function publicIssueBody(issue: PublicIssue): SafeHtml {
  const { outline } = issue;
  return html`<p class="kicker"><a href="/archive">Archive</a> · <time datetime="${issue.week}">${issue.weekRange}</time> · ${outline.summary}</p>
<h1>${issue.subject}</h1>
${
  outline.sections.length > 1
    ? html`<nav class="topics" aria-label="Topics in this issue"><ul>
${outline.sections.map((section) => html`<li><a href="#${section.slug}">${section.title}</a></li>`)}
</ul></nav>`
    : ''
}
${outline.hero ? html`<section aria-labelledby="top-story"><h2 id="top-story">Top story</h2>${card(outline.hero)}</section>` : html`<p>This issue had no stories.</p>`}
${outline.sections.map(
  (section) =>
    html`<section id="${section.slug}" aria-labelledby="h-${section.slug}"><h2 id="h-${section.slug}">${section.title}</h2>
${section.cards.map((item) => card(item))}</section>`,
)}
${
  outline.watch.length > 0
    ? html`<section aria-labelledby="watch"><h2 id="watch">What to watch</h2><ul>
${outline.watch.map((item) => html`<li>${item.prediction}${item.rationale ? html` <span class="muted">${item.rationale}</span>` : ''}</li>`)}
</ul></section>`
    : ''
}
${
  outline.developing.length > 0
    ? html`<section aria-labelledby="developing"><h2 id="developing">Developing stories</h2><ul>
${outline.developing.map((item) => html`<li>${item.url ? html`<a href="${item.url}" rel="noopener">${item.title}</a>` : item.title}${item.date ? ` — ${item.date}: ` : ' — '}${item.event}</li>`)}
</ul></section>`
    : ''
}
<p class="muted"><small>AI-curated news digest. All content rights belong to original publishers.</small></p>`;
}

function card(item: CardOutline): SafeHtml {
  const title = item.url ? html`<a href="${item.url}" rel="noopener">${item.title}</a>` : item.title;
  return html`<article class="card">
<h3>${item.update ? html`<span class="muted">${item.update.label}:</span> ` : ''}${title}</h3>
${item.kicker.length > 0 ? html`<p class="kicker">${item.kicker.join(' · ')}</p>` : ''}
${item.hook ? html`<p>${item.hook}</p>` : ''}
${item.tldr.map((line) => html`<p><strong>${line.label}:</strong> ${line.text}</p>`)}
${item.takeaways.length > 0 ? html`<ul>${item.takeaways.map((text) => html`<li>${text}</li>`)}</ul>` : ''}
${item.whoShouldCare ? html`<p class="muted">Who should care: ${item.whoShouldCare}</p>` : ''}
${item.alsoCoveredBy ? html`<p class="muted"><small>Also covered by ${item.alsoCoveredBy}</small></p>` : ''}
${item.url && !item.compact ? html`<p><a href="${item.url}" rel="noopener">${item.cta}</a></p>` : ''}
${item.related.length > 0 ? html`<p><small>Related: ${item.related.map((link, index) => html`${index > 0 ? ' · ' : ''}<a href="${link.url}" rel="noopener">${link.title}</a>`)}</small></p>` : ''}
${item.update?.heading ? html`<p><strong>${item.update.heading}:</strong></p><ul>${item.update.changes.map((line) => html`<li>${line.date}: ${line.event}</li>`)}</ul>` : ''}
${item.update?.earlierUrl ? html`<p><small><a href="${item.update.earlierUrl}">${item.update.earlierLabel}</a></small></p>` : ''}
</article>`;
}

/**
 * The mailed "view in browser" copy of one edition made a public page: the canonical link to the
 * issue's page, robots and OpenGraph tags in its head, the subscribe box before its end. The copy's
 * markup is the renderer's (story text escaped), so `</head>` and `</body>` occur once each.
 */
export function withPublicFrame(emailHtml: string, head: SafeHtml, cta: SafeHtml): string {
  const box = html`<div style="max-width:600px;margin:0 auto;padding:0 16px 24px;box-sizing:border-box;font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif">${cta}</div>`;
  return emailHtml.replace('</head>', `${head.value}</head>`).replace('</body>', `${box.value}</body>`);
}
