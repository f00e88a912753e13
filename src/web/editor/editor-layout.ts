import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseIsoWeek } from '../../calendar/iso-week.ts';
import { html, type SafeHtml } from '../html.ts';

/**
 * The editor pages' own security policy: like the subscriber pages (no script at all) but allowing the
 * preview iframes of this origin.
 */
export const editorCsp =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; frame-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'none'";

/** A complete editor page: navigation, an optional notice from the last form, and the body. No script. */
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
<style>
:root{color-scheme:light}
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1a1a1a;background:#f6f7f9}
header.top{background:#111827;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.2rem;align-items:center}
header.top a{color:#fff;text-decoration:none}header.top strong{margin-right:1rem}
main{padding:1rem 1.2rem;max-width:1400px}
h1{font-size:1.4rem;margin:.2rem 0 .8rem}h2{font-size:1.1rem;margin:1.2rem 0 .5rem}h3{font-size:1rem;margin:.8rem 0 .3rem}
table{border-collapse:collapse;background:#fff;margin:.4rem 0}th,td{border:1px solid #e3e5e8;padding:.3rem .55rem;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;border-radius:999px;padding:0 .55rem;font-size:.8rem;background:#e5e7eb}
.badge.approved{background:#dbeafe}.badge.sent{background:#dcfce7}.badge.sending,.badge.scheduled{background:#fef9c3}.badge.cancelled,.badge.paused{background:#fee2e2}
.notice{background:#ecfdf5;border:1px solid #a7f3d0;padding:.5rem .8rem;margin:.5rem 0}.error{background:#fef2f2;border:1px solid #fecaca;padding:.5rem .8rem;margin:.5rem 0}
.muted{color:#6b7280}.warn{color:#b45309}.bad{color:#b91c1c}.good{color:#15803d}
.cols{display:flex;gap:1.2rem;align-items:flex-start;flex-wrap:wrap}.col{flex:1 1 420px;min-width:0}
.tabs{display:flex;gap:.3rem;margin:.5rem 0}.tabs a{padding:.3rem .8rem;border:1px solid #d1d5db;border-radius:6px;background:#fff;text-decoration:none;color:#111}
.tabs a[aria-current=page]{background:#111827;color:#fff;border-color:#111827}
iframe.preview{border:1px solid #d1d5db;background:#fff;display:block;height:900px;max-width:100%}
iframe.preview.mobile{width:375px}iframe.preview.desktop{width:720px}iframe.preview.text{width:720px}iframe.preview.dark{width:720px}
form.inline{display:inline;margin:0}button{font:inherit;padding:.2rem .6rem;cursor:pointer}
.story{background:#fff;border:1px solid #e3e5e8;padding:.5rem .7rem;margin:.4rem 0}
.story .title{font-weight:600}.story .actions{margin-top:.3rem;display:flex;gap:.3rem;flex-wrap:wrap}
.kv{display:grid;grid-template-columns:max-content 1fr;gap:.15rem .8rem}
svg.chart{background:#fff;border:1px solid #e3e5e8;margin:.3rem .3rem 0 0}
</style>
</head>
<body>
<header class="top"><strong>Weekly AI Recap</strong><a href="/">Weeks</a><a href="/editor/dashboard">Dashboard</a><a href="/editor/ingestion">Ingestion</a><a href="/editor/readers">Readers</a></header>
<main>
<h1>${title}</h1>
${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : ''}
${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ''}
${body}
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
