import type { RenderedMessage } from '../../render/rendered-message.ts';

/** Gmail clips a message whose HTML is larger than this ("[Message clipped]"), hiding the footer. */
export const GMAIL_CLIP_BYTES = 102 * 1024;

export type PreviewView = 'desktop' | 'mobile' | 'text' | 'dark';
export const previewViews: readonly PreviewView[] = ['desktop', 'mobile', 'text', 'dark'];

export function parseView(value: unknown): PreviewView {
  return previewViews.includes(value as PreviewView) ? (value as PreviewView) : 'desktop';
}

/** The hidden preheader: the first text of the body that mail clients show after the subject. */
export function preheaderOf(html: string): string {
  const hidden = /<div[^>]*display:\s*none[^>]*>([\s\S]*?)<\/div>/i.exec(html)?.[1] ?? '';
  const text = decodeEntities(hidden.replace(/<[^>]+>/g, ''))
    .replace(/[\u200b-\u200f\u00ad\u2007\ufeff]|\u034f/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return text;
}

/**
 * The document the preview iframe shows. Dark: the template's own dark-mode rules are switched on; a
 * template without any is shown the way clients that force dark mode show it (colours inverted, images kept).
 */
export function previewDocument(
  message: RenderedMessage,
  view: PreviewView,
): { contentType: string; body: string } {
  if (view === 'text') return { contentType: 'text/plain; charset=utf-8', body: message.text };
  if (view !== 'dark') return { contentType: 'text/html; charset=utf-8', body: message.html };
  const hasDarkRules = /prefers-color-scheme:\s*dark/i.test(message.html);
  const darkened = hasDarkRules
    ? message.html.replace(/@media\s*\(\s*prefers-color-scheme:\s*dark\s*\)/gi, '@media all')
    : message.html.replace(
        /<\/head>/i,
        '<style>html{filter:invert(1) hue-rotate(180deg);background:#fff}img{filter:invert(1) hue-rotate(180deg)}</style></head>',
      );
  return { contentType: 'text/html; charset=utf-8', body: darkened };
}

/** Every distinct link target of an HTML message (href and src), unescaped, in document order. */
export function linksOf(html: string): string[] {
  const found = new Set<string>();
  for (const match of html.matchAll(/\s(?:href|src)\s*=\s*"([^"]*)"/gi)) {
    found.add(decodeEntities(match[1] ?? '').trim());
  }
  return [...found].filter((link) => link !== '');
}

function decodeEntities(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_, code: string) => String.fromCodePoint(Number.parseInt(code, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&nbsp;/g, '\u00a0')
    .replace(/&amp;/g, '&');
}
