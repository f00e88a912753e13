import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { launchChromium } from '../support/chromium.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { testApp } from './editor-seed.ts';
import { EDITOR_TOKEN, type SeededReaders, seedReaders } from './readers-seed.ts';

const artifacts = path.resolve('test-artifacts/readers');
const axeScript = path.resolve('node_modules/axe-core/axe.min.js');
let t: TestDatabase;
let sink: SmtpSink;
let app: App;
let server: RunningServer;
let browser: Browser;
let seeded: SeededReaders;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  t = await createTestDatabase();
  sink = await startSmtpSink();
  seeded = await seedReaders(t);
  app = testApp(t, { SMTP_URL: sink.url, EDITOR_TOKEN });
  server = await startServer(app, { port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await app?.close();
  await sink?.close();
  await t?.close();
});

/** A browser signed in to the editor: the token once in the address, then its cookie. */
async function editorContext(options: Parameters<Browser['newContext']>[0] = {}): Promise<BrowserContext> {
  // bypassCSP: the editor's policy forbids every script, axe-core's included.
  const context = await browser.newContext({ bypassCSP: true, ...options });
  const page = await context.newPage();
  await page.goto(`${server.url}/editor/readers?token=${EDITOR_TOKEN}`);
  await page.close();
  return context;
}

async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: axeScript });
  const result = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run: () => Promise<{
            violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }>;
          }>;
        };
      }
    ).axe;
    return axe.run();
  });
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

const sideways = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

describe('the Readers pages in a browser', () => {
  it.each(['light', 'dark'] as const)(
    'neither scrolls sideways at 390 px nor has a serious accessibility violation (%s)',
    async (colorScheme) => {
      const pages = {
        readers: '/editor/readers',
        search: '/editor/readers?q=lovelace',
        reader: `/editor/readers/${seeded.ada}`,
        suppressed: `/editor/readers/${seeded.grace}`,
        add: '/editor/readers/add',
        import: '/editor/readers/import',
        erase: `/editor/readers/${seeded.ada}/erase`,
      };
      for (const width of [390, 375, 1280]) {
        const context = await editorContext({ viewport: { width, height: 900 }, colorScheme });
        const page = await context.newPage();
        for (const [name, url] of Object.entries(pages)) {
          await page.goto(`${server.url}${url}`);
          expect(await sideways(page), `${name} at ${width} px`).toBeLessThanOrEqual(0);
          if (width === 390) expect(await seriousViolations(page), name).toEqual([]);
          if (width !== 390 && (name === 'readers' || name === 'reader'))
            await page.screenshot({
              path: path.join(artifacts, `${name}-${width}-${colorScheme}.png`),
              fullPage: true,
            });
        }
        await context.close();
      }
    },
    300_000,
  );

  it('searches and opens a reader with the keyboard only', async () => {
    const context = await editorContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/editor/readers`);
    // From the top: the navigation, the counts, the actions, then the search field.
    let steps = 0;
    while ((await page.evaluate(() => document.activeElement?.getAttribute('name'))) !== 'q' && steps < 30) {
      await page.keyboard.press('Tab');
      steps += 1;
    }
    expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('q');
    await page.keyboard.type('lovelace');
    await page.keyboard.press('Enter');
    await page.waitForURL(/q=lovelace/);
    while (
      (await page.evaluate(() => document.activeElement?.textContent)) !==
        'ada.lovelace@analytical.example' &&
      steps < 80
    ) {
      await page.keyboard.press('Tab');
      steps += 1;
    }
    await page.screenshot({ path: path.join(artifacts, 'keyboard-focus-on-result.png') });
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`/editor/readers/${seeded.ada}$`));
    expect(await page.locator('h1').innerText()).toBe('ada.lovelace@analytical.example');
    await context.close();
  }, 120_000);

  it('imports a CSV with a progress bar, with and without JavaScript', async () => {
    const rows = Array.from(
      { length: 3000 },
      (_, i) => `bulk.reader${i}@list.example,Bulk ${i},Engineers & Developers`,
    );
    const csv = Buffer.from(
      ['email,name,segments', ...rows, 'broken,Nobody,Engineers & Developers'].join('\n'),
    );
    for (const javaScriptEnabled of [true, false]) {
      const context = await editorContext({ viewport: { width: 390, height: 900 }, javaScriptEnabled });
      const page = await context.newPage();
      const polls: string[] = [];
      page.on('request', (request) => {
        if (request.url().endsWith('/progress.json')) polls.push(request.url());
      });
      await page.goto(`${server.url}/editor/readers/import`);
      await page.setInputFiles('input[name="file"]', { name: 'list.csv', mimeType: 'text/csv', buffer: csv });
      await page.getByLabel('Skip invalid rows').check();
      await page.getByRole('button', { name: 'Import' }).click();
      await page.waitForURL(/\/editor\/readers\/import\/\d+$/);
      await page.locator('#import-result').waitFor({ timeout: 60_000 });
      expect(await page.locator('#import-result').innerText()).toMatch(
        /Imported 3,?000 readers|Imported 3000 readers/,
      );
      expect(await page.locator('#import-result').innerText()).toContain('line 3002');
      if (!javaScriptEnabled) expect(polls).toEqual([]);
      await page.screenshot({
        path: path.join(artifacts, `import-result-${javaScriptEnabled ? 'js' : 'nojs'}.png`),
        fullPage: true,
      });
      await context.close();
    }
    const count = await t.db
      .selectFrom('subscribers')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('email', 'like', 'bulk.reader%')
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(3000);
  }, 180_000);
});
