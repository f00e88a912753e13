// Issue 22.1: Debian's nginx with a default-style site (`proxy_pass http://127.0.0.1:PORT;` and nothing
// else: Host rewritten to 127.0.0.1:PORT, no X-Forwarded-For) in front of the built `recap serve`
// without EDITOR_TOKEN. Every visitor reaches the server as a loopback peer naming a loopback host; only
// the token printed at start opens the editor.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempWorkdir } from '../support/cli.ts';
import { type ProxiedAnswer, proxiedRequest, type RunningNginx, startNginx } from '../support/nginx.ts';
import { freePort, type ServedCli, startServeCli } from '../support/serve-cli.ts';

const dir = tempWorkdir('recap-proxy-editor-');
let served: ServedCli;
let nginx: RunningNginx;
let proxyPort = 0;

beforeAll(async () => {
  served = await startServeCli(
    {
      RECAP_DATA_DIR: path.join(dir, 'data'),
      RECAP_OUTBOX_DIR: path.join(dir, 'outbox'),
      PORT: '0',
      LOG_FORMAT: 'json',
    },
    dir,
  );
  proxyPort = await freePort();
  const upstream = new URL(served.url).port;
  nginx = await startNginx(
    `server {\n  listen 127.0.0.1:${proxyPort};\n  location / {\n    proxy_pass http://127.0.0.1:${upstream};\n  }\n}\n`,
    [proxyPort],
  );
}, 180_000);
afterAll(async () => {
  await nginx?.stop();
  await served?.stop();
});

/** An outside visitor (another address than the proxy's) through nginx. */
const visit = (target: string, init: Parameters<typeof proxiedRequest>[2] = {}): Promise<ProxiedAnswer> =>
  proxiedRequest(
    { port: proxyPort, from: '127.0.0.2', hostHeader: `recap.example.org:${proxyPort}` },
    target,
    init,
  );

describe('the editor behind a same-host nginx with its defaults, no EDITOR_TOKEN', () => {
  it('prints the editor link with a token made for this start, in the JSON log', () => {
    const lines = served
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg?: string; editorUrl?: string });
    const editorLine = lines.find((line) => line.msg?.startsWith('editor at '));
    const port = new URL(served.url).port;
    expect(editorLine?.editorUrl).toBe(`http://localhost:${port}/?token=${served.editorToken}`);
    expect(editorLine?.msg).toContain('a token made for this start: set EDITOR_TOKEN to keep one');
    expect(served.editorToken).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('refuses an outside visitor on every editor route, reading and writing', async () => {
    for (const target of ['/', '/editor/dashboard', '/editor/ingestion', '/editor/issues/2026-W49']) {
      const answer = await visit(target);
      expect(answer.status, target).toBe(401);
      expect(answer.body).not.toContain('Weeks</h1>');
      expect(answer.headers['set-cookie']).toBeUndefined();
    }
    const build = await visit('/editor/issues/2026-W49/build', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      body: '',
    });
    expect(build.status).toBe(401);
    const issues = await runCli(
      ['issue', 'list'],
      {
        RECAP_DATA_DIR: path.join(dir, 'data'),
        RECAP_OUTBOX_DIR: path.join(dir, 'outbox'),
      },
      dir,
    );
    expect(issues.stdout).not.toContain('2026-W49');
    // A token of the right shape that is not this start's opens nothing.
    expect((await visit('/?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).status).toBe(401);
    // Subscriber routes stay public through the proxy.
    expect((await visit('/subscribe')).status).toBe(200);
  });

  it('opens it with the printed link: the cookie is set and the address is cleaned', async () => {
    const opened = await visit(`/?token=${served.editorToken}`);
    expect(opened.status).toBe(303);
    expect(opened.headers.location).toBe('/');
    const setCookie = String(opened.headers['set-cookie'] ?? '');
    expect(setCookie).toMatch(/^recap_editor=[^;]+; Path=\/; HttpOnly; SameSite=Strict/);
    const cookie = setCookie.split(';')[0] as string;
    const weeks = await visit('/', { headers: { cookie } });
    expect(weeks.status).toBe(200);
    expect(weeks.body).toContain('Weeks</h1>');
  });
});

describe('in production, the editor needs EDITOR_TOKEN', () => {
  it.each([
    ['serve', ['serve', '--port', '0']],
    ['demo --serve', ['demo', '--serve']],
  ])(
    '`recap %s` without it stops with one line before it opens anything',
    async (_name, args) => {
      const work = tempWorkdir('recap-prod-editor-');
      const result = await runCli(
        args,
        {
          NODE_ENV: 'production',
          RECAP_SECRET: 'Kq3vX9pL2mN8rT5wY7zB4cF6hJ1dG0sA',
          PUBLIC_URL: 'https://recap.example.org',
          RECAP_DATA_DIR: path.join(work, 'data'),
          RECAP_OUTBOX_DIR: path.join(work, 'outbox'),
        },
        work,
      );
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        'recap: EDITOR_TOKEN: required in production, where the editor is served to whoever reaches this server; set 24+ random characters, e.g. from `openssl rand -base64 24`\n',
      );
      expect(readdirSync(work)).toEqual([]);
    },
    60_000,
  );
});
