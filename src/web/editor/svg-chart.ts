import { html, type SafeHtml } from '../html.ts';

export interface ChartPoint {
  label: string;
  value: number;
}

export interface ChartOptions {
  title: string;
  /** Formats a value for the axis and the labels (e.g. as a percentage). */
  format: (value: number) => string;
  width?: number;
  height?: number;
}

/**
 * A small line chart as inline SVG, drawn on the server: no script, readable by screen readers through
 * its title and a table fallback in the page. Pure: the same points give the same markup.
 */
export function lineChart(points: readonly ChartPoint[], options: ChartOptions): SafeHtml {
  const width = options.width ?? 320;
  const height = options.height ?? 140;
  const pad = { left: 44, right: 10, top: 22, bottom: 24 };
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const max = Math.max(...points.map((p) => p.value), 0);
  const top = max > 0 ? max * 1.1 : 1;
  const x = (i: number) => pad.left + (points.length <= 1 ? innerW / 2 : (i * innerW) / (points.length - 1));
  const y = (value: number) => pad.top + innerH - (value / top) * innerH;
  const coords = points.map((p, i) => `${x(i).toFixed(1)},${y(p.value).toFixed(1)}`);
  const first = points[0];
  const last = points[points.length - 1];
  return html`<svg class="chart" role="img" aria-label="${options.title}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">
<title>${options.title}</title>
<text x="${pad.left}" y="14" font-size="12" font-weight="600" fill="currentColor">${options.title}</text>
<line x1="${pad.left}" y1="${pad.top + innerH}" x2="${width - pad.right}" y2="${pad.top + innerH}" stroke="#bbb"/>
<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${pad.top + innerH}" stroke="#bbb"/>
<text x="${pad.left - 4}" y="${pad.top + 4}" font-size="10" text-anchor="end" fill="#666">${options.format(top)}</text>
<text x="${pad.left - 4}" y="${pad.top + innerH}" font-size="10" text-anchor="end" fill="#666">${options.format(0)}</text>
${points.length > 1 ? html`<polyline fill="none" stroke="#2563eb" stroke-width="2" points="${coords.join(' ')}"/>` : ''}
${points.map(
  (p, i) =>
    html`<circle cx="${x(i).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="3" fill="#2563eb"><title>${p.label}: ${options.format(p.value)}</title></circle>`,
)}
${first ? html`<text x="${x(0).toFixed(1)}" y="${height - 6}" font-size="10" text-anchor="${points.length > 1 ? 'start' : 'middle'}" fill="#666">${first.label}</text>` : ''}
${last && points.length > 1 ? html`<text x="${x(points.length - 1).toFixed(1)}" y="${height - 6}" font-size="10" text-anchor="end" fill="#666">${last.label}</text>` : ''}
${points.length === 0 ? html`<text x="${pad.left + innerW / 2}" y="${pad.top + innerH / 2}" font-size="11" text-anchor="middle" fill="#666">no sent issues yet</text>` : ''}
</svg>`;
}
