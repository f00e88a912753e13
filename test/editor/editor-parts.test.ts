import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkEditorAccess, type EditorRequestFacts } from '../../src/web/editor/editor-auth.ts';
import { linksOf, preheaderOf, previewDocument } from '../../src/web/editor/email-preview.ts';
import { checkLinks } from '../../src/web/editor/link-check.ts';
import { lineChart } from '../../src/web/editor/svg-chart.ts';

// What nginx's default proxy_pass sends for any visitor: a loopback peer, Host 127.0.0.1:3000, no forwarding.
const local: EditorRequestFacts = {
  method: 'GET',
  host: '127.0.0.1:3000',
  origin: undefined,
  secFetchSite: undefined,
  authorization: undefined,
  cookieHeader: undefined,
  queryToken: undefined,
};
const token = 'a-long-editor-token-of-some-length';

describe('editor access', () => {
  it('requires the token from everyone, this machine included: bearer, cookie, or ?token= once', () => {
    expect(checkEditorAccess(local, token)).toMatchObject({ ok: false, status: 401 });
    expect(checkEditorAccess({ ...local, cookieHeader: 'recap_editor=' }, token).ok).toBe(false);
    expect(checkEditorAccess({ ...local, authorization: `Bearer ${token}` }, token)).toEqual({
      ok: true,
      setCookie: false,
    });
    expect(checkEditorAccess({ ...local, cookieHeader: `x=1; recap_editor=${token}` }, token)).toEqual({
      ok: true,
      setCookie: false,
    });
    expect(checkEditorAccess({ ...local, queryToken: token }, token)).toEqual({ ok: true, setCookie: true });
    expect(checkEditorAccess({ ...local, queryToken: `${token}x` }, token).ok).toBe(false);
  });

  it('refuses forms posted from another site, even with the token', () => {
    const post = { ...local, method: 'POST', authorization: `Bearer ${token}` };
    expect(
      checkEditorAccess({ ...post, origin: 'http://127.0.0.1:3000', secFetchSite: 'same-origin' }, token).ok,
    ).toBe(true);
    expect(checkEditorAccess({ ...post, origin: 'https://evil.example' }, token)).toMatchObject({
      ok: false,
      status: 403,
    });
    expect(checkEditorAccess({ ...post, secFetchSite: 'cross-site' }, token)).toMatchObject({
      ok: false,
      status: 403,
    });
    expect(checkEditorAccess({ ...post, origin: 'null' }, token).ok).toBe(false);
    expect(checkEditorAccess({ ...post, origin: 'null', secFetchSite: 'same-origin' }, token).ok).toBe(true);
    expect(
      checkEditorAccess({ ...post, origin: 'http://127.0.0.1:3000', secFetchSite: 'same-site' }, token).ok,
    ).toBe(false);
  });
});

describe('preview documents', () => {
  const message = {
    subject: 'S',
    html: '<html><head></head><body><div style="display:none;overflow:hidden">Three launches &amp; a ruling\u200c\u200b</div><a href="https://a.example/x?a=1&amp;b=2">x</a><img src="https://img.example/i.png"><a href="mailto:x@example.com">m</a></body></html>',
    text: 'plain words',
    headers: {},
  };

  it('finds the preheader and every link, unescaped', () => {
    expect(preheaderOf(message.html)).toBe('Three launches & a ruling');
    expect(linksOf(message.html)).toEqual([
      'https://a.example/x?a=1&b=2',
      'https://img.example/i.png',
      'mailto:x@example.com',
    ]);
  });

  it('serves text as text and darkens a template without dark rules', () => {
    expect(previewDocument(message, 'text')).toEqual({
      contentType: 'text/plain; charset=utf-8',
      body: 'plain words',
    });
    expect(previewDocument(message, 'dark').body).toMatch(/filter:invert\(1\)/);
    const withRules = {
      ...message,
      html: '<style>@media (prefers-color-scheme: dark){body{background:#000}}</style>',
    };
    expect(previewDocument(withRules, 'dark').body).toBe('<style>@media all{body{background:#000}}</style>');
  });
});

describe('link check', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/ok') return response.writeHead(200).end('fine');
      if (request.url === '/no-head') return response.writeHead(request.method === 'HEAD' ? 405 : 200).end();
      if (request.url === '/moved') return response.writeHead(301, { location: '/ok' }).end();
      if (request.url === '/slow') return; // never answers
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('reports each link: answering, refused, not http(s), timed out', async () => {
    const results = await checkLinks(
      [
        `${base}/ok`,
        `${base}/no-head`,
        `${base}/moved`,
        `${base}/gone`,
        'javascript:alert(1)',
        'mailto:a@example.com',
        `${base}/slow`,
      ],
      { timeoutMs: 3000 },
    );
    expect(results.map((r) => [r.ok, r.status])).toEqual([
      [true, 200],
      [true, 200],
      [true, 200],
      [false, 404],
      [false, null],
      [true, null],
      [false, null],
    ]);
    expect(results[4]?.note).toMatch(/not http/);
    expect(results[6]?.note).toMatch(/no answer within 3 s/);
  });
});

describe('charts', () => {
  it('draws one point per week, escaping labels', () => {
    const svg = lineChart(
      [
        { label: '2026-W46', value: 0.2 },
        { label: '<W47>', value: 0.4 },
      ],
      { title: 'Open rate', format: (v) => `${Math.round(v * 100)}%` },
    ).value;
    expect(svg.match(/<circle/g)).toHaveLength(2);
    expect(svg).toContain('&lt;W47&gt;: 40%');
    expect(svg).not.toContain('<W47>');
    expect(lineChart([], { title: 'Empty', format: String }).value).toContain('no sent issues yet');
  });
});
