import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseIsoWeek } from '../../calendar/iso-week.ts';
import { html, type SafeHtml, trustedHtml } from '../html.ts';

/**
 * The editor pages' own security policy: like the subscriber pages, but allowing the preview iframes
 * of this origin and the editor's one static script (/editor/assets/issue-page.js, which fetches
 * pages of this origin): `script-src 'self'`, never inline script. Only editor routes send it.
 */
export const editorCsp =
  "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' https: data:; frame-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'none'";

/** Where the editor's script is served (a static file of this origin, see issue-page-script.ts). */
export const EDITOR_SCRIPT_PATH = '/editor/assets/issue-page.js';

const editorStyles = `
:root{color-scheme:light dark;--fg:#1a1a1a;--bg:#f6f7f9;--card:#fff;--line:#e3e5e8;--ctl:#d1d5db;--muted:#5f6672;--warn:#9a4a07;--bad:#b91c1c;--good:#15803d;--bar:#111827;--accent:#1d4ed8;--notice:#ecfdf5;--notice-line:#a7f3d0;--error:#fef2f2;--error-line:#fecaca}
@media (prefers-color-scheme:dark){:root{--fg:#e5e7eb;--bg:#0f1115;--card:#181b21;--line:#2d323b;--ctl:#4b5260;--muted:#a0a7b4;--warn:#f59e0b;--bad:#f87171;--good:#4ade80;--bar:#030712;--accent:#93c5fd;--notice:#0b2a1f;--notice-line:#166534;--error:#2a0f0f;--error-line:#7f1d1d}}
*,*::before,*::after{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:var(--fg);background:var(--bg)}
a{color:var(--accent)}
header.top{background:var(--bar);color:#fff;padding:.6rem 1.2rem;display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;align-items:center}
header.top a{color:#fff;text-decoration:none}.top-nav{display:flex;flex-wrap:wrap;gap:.4rem 1.2rem}header.top strong{margin-right:1rem}
main{padding:1rem 1.2rem;max-width:1400px}
h1{font-size:1.4rem;margin:.2rem 0 .8rem}h2{font-size:1.1rem;margin:1.2rem 0 .5rem}h3{font-size:1rem;margin:.8rem 0 .3rem}
table{border-collapse:collapse;background:var(--card);margin:.4rem 0}th,td{border:1px solid var(--line);padding:.3rem .55rem;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td,li,p,dd{overflow-wrap:anywhere}
.table-wrap{max-width:100%;overflow-x:auto}
/* A wide table scrolls inside its wrapper: its words stay whole and its first column readable, rather than one letter a line. */
.table-wrap table:not(.cards) :is(td,th){overflow-wrap:normal}.table-wrap table:not(.cards) td:first-child{min-width:10rem}
.badge{display:inline-block;border-radius:999px;padding:0 .55rem;font-size:.8rem;background:#e5e7eb;color:#111}
.badge.update{background:#ede9fe}.update-of{font-size:.9rem}.badge.approved{background:#dbeafe}.badge.sent{background:#dcfce7}.badge.sending,.badge.scheduled{background:#fef9c3}.badge.cancelled,.badge.paused{background:#fee2e2}
.notice{background:var(--notice);border:1px solid var(--notice-line);padding:.5rem .8rem;margin:.5rem 0}.error{background:var(--error);border:1px solid var(--error-line);padding:.5rem .8rem;margin:.5rem 0}
.muted{color:var(--muted)}.warn{color:var(--warn)}.bad{color:var(--bad)}.good{color:var(--good)}
.visually-hidden{position:absolute!important;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
.skip-link{position:absolute;left:-9999px}.skip-link:focus{position:static;display:inline-block;margin:.2rem 0;padding:.2rem .5rem;background:var(--card)}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.cols{display:flex;gap:1.2rem;align-items:flex-start;flex-wrap:wrap}.col{flex:1 1 420px;min-width:0}
.tabs{display:flex;flex-wrap:wrap;gap:.3rem;margin:.4rem 0}.tabs a{padding:.3rem .8rem;border:1px solid var(--ctl);border-radius:6px;background:var(--card);text-decoration:none;color:var(--fg)}
.tabs a[aria-current=page]{background:var(--bar);color:#fff;border-color:var(--bar)}
form.inline{display:inline;margin:0}button,select,input{font:inherit;max-width:100%}button{padding:.2rem .6rem;cursor:pointer}
.status-line{margin:0 0 .5rem}
.workspace{display:grid;grid-template-columns:minmax(0,1fr);gap:1rem 1.4rem;align-items:start}
.preview-bar{display:flex;flex-wrap:wrap;gap:.3rem 1rem;align-items:center}
.preview-bar form{display:flex;flex-wrap:wrap;gap:.3rem;align-items:center;min-width:0}
.preview-bar select{min-width:0;width:20rem}
iframe.preview{box-sizing:content-box;border:1px solid var(--ctl);background:#fff;display:block;width:calc(100% - 2px);max-width:720px;height:75vh;min-height:420px;margin-top:.4rem}
iframe.preview.mobile{width:375px}
.selection-pane h2{margin-top:0}
.story{background:var(--card);border:1px solid var(--line);padding:.5rem .7rem;margin:.4rem 0}
.story .title{font-weight:600}.story .actions,.candidates .actions{margin-top:.3rem;display:flex;gap:.3rem;flex-wrap:wrap;align-items:center}
.story ul.reasons{margin:.2rem 0;padding-left:1.2rem}
form.move input[type=number]{width:4.5em}
ol.stories{padding-left:1.6rem}
details.segment{margin:.5rem 0}details.segment>summary{cursor:pointer;padding:.2rem 0}
ul.overrides li{margin:.2rem 0}
.overrides-summary{margin:.5rem 0}.last-change{margin:.5rem 0;background:var(--notice);border:1px solid var(--notice-line);padding:.4rem .7rem}
.kv{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.15rem .8rem;margin:.4rem 0}
.badge{white-space:nowrap}table.weeks td{overflow-wrap:normal}table.weeks td:first-child a{white-space:nowrap}table.weeks td.lead{min-width:14rem}table.weeks td.goes-out{min-width:13rem}
.writing-form{display:grid;gap:.25rem;max-width:46rem}.writing-form textarea,.writing-form input{width:100%;font:inherit;padding:.3rem .4rem}
.inbox-preview{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,20rem),1fr));gap:.6rem;max-width:64rem}
figure.inbox{margin:0;background:var(--card);border:1px solid var(--line);padding:.4rem .6rem}figure.inbox figcaption{font-size:.8rem;margin-bottom:.3rem}
.subject-test ul.variants{padding-left:1.2rem;max-width:46rem}.subject-test li{margin:.3rem 0}.subject-test li.winner{font-weight:600}.subject-test .figures{font-size:.9rem;color:var(--muted);font-weight:400}
.inbox-row{display:grid;gap:.05rem;font-size:.95rem;overflow-wrap:anywhere}.inbox-sender{font-weight:700}.inbox-subject{font-weight:600}.inbox-preheader{color:var(--muted)}
figure.inbox[data-client=gmail-desktop] .inbox-row{grid-template-columns:minmax(0,10rem) minmax(0,1fr);gap:.6rem}
figure.inbox[data-client=gmail-desktop]{grid-column:1/-1}
.review td ul{margin:0;padding-left:1.1rem}.approve-form{display:grid;gap:.4rem;max-width:46rem}.approve-form button{justify-self:start}
.send-controls form{display:inline-block;margin:.2rem .4rem .2rem 0}dl.progress{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.15rem .8rem;margin:.4rem 0}dl.progress dd{margin:0;font-variant-numeric:tabular-nums}
svg.chart{background:#fff;border:1px solid var(--line);margin:.3rem .3rem 0 0;max-width:100%;height:auto}
@media (min-width:1100px){
.workspace{grid-template-columns:minmax(0,740px) minmax(340px,1fr)}
.preview-pane{position:sticky;top:.5rem}
iframe.preview{height:calc(100vh - 13rem)}
}
/* Tables marked "cards" become one card per row on a phone: their cells keep a readable width. */
@media (max-width:640px){table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%;box-sizing:border-box}table.cards thead{position:absolute;left:-9999px}table.cards tr{border:1px solid var(--line);margin:.4rem 0;background:var(--card)}table.cards td{border:0;padding:.15rem .55rem}table.cards td[data-label]::before{content:attr(data-label) ": ";color:var(--muted);font-size:.85rem}table.cards td.num{text-align:left}table.cards td:empty{display:none}}
@media (max-width:600px){main{padding:.8rem .7rem}header.top{padding:.5rem .7rem}.preview-bar select{width:100%}}
`;

/**
 * Every table in a region of its own that scrolls sideways when a phone is narrower than the table, so
 * the page itself never does; focusable, so a keyboard can scroll it too.
 */
function scrollableTables(body: SafeHtml): SafeHtml {
  return trustedHtml(
    body.value.replace(
      /<table\b[\s\S]*?<\/table>/g,
      (table) => `<div class="table-wrap" tabindex="0" role="region" aria-label="Table">${table}</div>`,
    ),
  );
}

/** A complete editor page: navigation, an optional notice from the last form, and the body. */
export function editorPage(
  title: string,
  body: SafeHtml,
  options: { notice?: string | undefined; error?: string | undefined } = {},
): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title} · Weekly AI Recap editor</title>
<style>${trustedHtml(editorStyles)}</style>
<script src="${EDITOR_SCRIPT_PATH}" defer></script>
</head>
<body>
<header class="top"><strong>Weekly AI Recap</strong><nav aria-label="Editor" class="top-nav"><a href="/">Weeks</a> <a href="/editor/dashboard">Dashboard</a> <a href="/editor/ingestion">Ingestion</a> <a href="/editor/readers">Readers</a></nav></header>
<main>
<h1>${title}</h1>
<div id="messages" data-swap>
${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : ''}
${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ''}
</div>
<p id="live-status" class="visually-hidden" role="status" aria-live="polite"></p>
${scrollableTables(body)}
</main>
</body>
</html>
`.value;
}

export function statusBadge(status: string): SafeHtml {
  return html`<span class="badge ${status}">${status}</span>`;
}

export function formatDateTime(date: Date | null, timeZone: string): string {
  if (!date) return '';
  return date.toLocaleString('en-GB', { timeZone, dateStyle: 'medium', timeStyle: 'short' });
}

/** A complete editor page with its own security policy (preview iframes allowed) and the form's notice. */
export function sendEditorPage(
  reply: FastifyReply,
  title: string,
  body: ReturnType<typeof html>,
  request?: FastifyRequest,
): FastifyReply {
  const query = (request?.query ?? {}) as Record<string, unknown>;
  return (
    reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', editorCsp)
      // Same-origin forms then carry their Origin (under no-referrer they would send "null").
      .header('referrer-policy', 'same-origin')
      .send(
        editorPage(title, body, {
          notice: typeof query.notice === 'string' ? query.notice.slice(0, 300) : undefined,
          error: typeof query.error === 'string' ? query.error.slice(0, 300) : undefined,
        }),
      )
  );
}

export function weekParam(request: FastifyRequest): string | null {
  const week = (request.params as { week?: string }).week ?? '';
  return parseIsoWeek(week) ? week : null;
}
