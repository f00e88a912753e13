/** HTML that is already safe to emit (built by `html` or from trusted markup). */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const entities: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => entities[char] ?? char);
}

type Interpolation = SafeHtml | string | number | boolean | null | undefined | readonly Interpolation[];

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** Template tag: every interpolated value is escaped unless it is SafeHtml (arrays are joined). */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** Markup from a trusted producer (the email renderer), emitted as is. */
export function trustedHtml(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** How a page differs from the default (noindex, the title as its heading, nothing around it). */
export interface PageOptions {
  /** Search engines may index it (the public archive and sign-up); default noindex. */
  indexable?: boolean;
  /** More tags for <head>: canonical link, description, OpenGraph, feed link. */
  head?: SafeHtml;
  /** The page's own heading; default the title. */
  heading?: string;
  /** After the main content, e.g. the subscribe call to action. */
  after?: SafeHtml;
  /** Inside another site's frame: tight margins, no room lost around the form. */
  compact?: boolean;
  /** The archive's and sign-up's styles (form fields, cards, lists) on top of the base. */
  publicStyle?: boolean;
}

/** Every page: readable, light and dark, small enough for an error answer. */
const BASE_STYLE = `body{font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.5rem}button{font:inherit;padding:.5rem 1rem;cursor:pointer}fieldset{border:1px solid #ccc;margin:1rem 0}
label{display:block;margin:.25rem 0}.muted{color:#555}form{margin:1rem 0}
:root{color-scheme:light dark}
@media (prefers-color-scheme:dark){body{color:#e6e6e6;background:#161616}.muted{color:#a8a8a8}fieldset{border-color:#444}a{color:#8ab4f8}}`;

/** The public pages' extras (archive and sign-up): form fields, buttons, issue lists, story cards. */
const PUBLIC_STYLE = `body{overflow-wrap:anywhere}
body.compact{margin:0 auto;padding:.75rem}body.compact h1{font-size:1.25rem;margin:.25rem 0 .5rem}
h1{line-height:1.25}h2{font-size:1.2rem;line-height:1.3;margin-top:2rem}h3{font-size:1.05rem;line-height:1.35;margin:0 0 .25rem}
button{border-radius:6px}button.primary{background:#1d4ed8;color:#fff;border:1px solid #1d4ed8;font-weight:600}
fieldset{border-radius:6px}small{font-size:.875rem}
input[type=email]{font:inherit;padding:.45rem .6rem;border:1px solid #767676;border-radius:6px;width:100%;max-width:24rem;box-sizing:border-box;display:block;margin-top:.25rem}
.error{color:#b3261e;font-weight:600}[aria-invalid=true]{border-color:#b3261e}
.issues{list-style:none;padding:0}.issues>li{padding:1rem 0;border-top:1px solid #ddd}.issues ul{margin:.25rem 0 0;padding-left:1.25rem}
.card{margin:1.25rem 0;padding-bottom:1rem;border-bottom:1px solid #e3e3e3}.card p{margin:.35rem 0}.kicker{font-size:.875rem;color:#555;margin:0 0 .25rem}
nav.topics ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.5rem}nav.topics a{display:inline-block;padding:.25rem .75rem;border:1px solid #ccc;border-radius:999px}
.pager{display:flex;justify-content:space-between;gap:1rem;margin:1.5rem 0}
@media (prefers-color-scheme:dark){.kicker{color:#a8a8a8}nav.topics a{border-color:#444}.issues>li,.card{border-color:#333}.error{color:#ff8a80}
input[type=email]{background:#1f1f1f;color:#e6e6e6;border-color:#8a8a8a}button.primary{background:#8ab4f8;border-color:#8ab4f8;color:#0b1b33}}`;

/** A complete page: small, readable without CSS, no scripts. Noindex unless `indexable`. */
export function page(title: string, body: SafeHtml, options: PageOptions = {}): string {
  const heading = options.heading ?? title;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${
  options.indexable
    ? ''
    : html`<meta name="robots" content="noindex">
`
}<title>${title}</title>
${options.head ?? ''}<style>
${trustedHtml(options.publicStyle ? `${BASE_STYLE}\n${PUBLIC_STYLE}` : BASE_STYLE)}
</style>
</head>
<body${options.compact ? html` class="compact"` : ''}>
<main>
${
  heading
    ? html`<h1>${heading}</h1>
`
    : ''
}${body}
</main>
${options.after ?? ''}</body>
</html>
`.value;
}
