import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { runDemo } from '../../src/cli/run-demo.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { launchChromium } from '../support/chromium.ts';
import { createTestApp } from './web-fixtures.ts';

// The feedback pages and the mail's feedback links as a reader sees them, in Chromium: phone and desktop
// widths, light and dark. Screenshots go to RECAP_SHOTS_DIR (prefix feedback-).
vi.setConfig({ testTimeout: 240_000 });

const BROWSER =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const shots = process.env.RECAP_SHOTS_DIR ?? path.resolve('test-artifacts/feedback');
let app: App;
let server: RunningServer;
let browser: Browser;
let mailHtml = '';
let storyPath = '';
let ratingPath = '';

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  app = await createTestApp();
  await runDemo(app, { week: '2026-W48', now: new Date('2026-11-30T07:00:00Z'), simulateReaders: false });
  const file = readdirSync(app.config.outboxDir).find((name) => name.endsWith('.eml')) ?? 'missing';
  const mail = await simpleParser(readFileSync(path.join(app.config.outboxDir, file)));
  mailHtml = mail.html || '';
  const links = [...(mail.text ?? '').matchAll(/^(More like this|OK):\nhttp:\/\/recap\.test(\/f\/\S+)$/gm)];
  storyPath = links.find((match) => match[1] === 'More like this')?.[2] ?? '';
  ratingPath = links.find((match) => match[1] === 'OK')?.[2] ?? '';
  server = await startServer(app, { port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await app?.close();
});

async function newPage(width: number, colorScheme: 'light' | 'dark', bypassCSP = false): Promise<Page> {
  // Headless Chromium says "HeadlessChrome", which the tracking's classification takes for a scanner
  // (and so would the POST): the reader's browser says Chrome.
  const context = await browser.newContext({
    viewport: { width, height: 900 },
    colorScheme,
    bypassCSP,
    userAgent: BROWSER,
  });
  return context.newPage();
}

async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(): Promise<{
            violations: Array<{ id: string; impact: string | null; nodes: Array<{ target: unknown }> }>;
            passes: unknown[];
          }>;
        };
      }
    ).axe;
    return axe.run();
  });
  expect(result.passes.length).toBeGreaterThan(5);
  return result.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id}: ${JSON.stringify(violation.nodes.map((node) => node.target))}`);
}

describe('feedback pages in a browser', () => {
  for (const width of [390, 1280]) {
    for (const scheme of ['light', 'dark'] as const) {
      it(`story vote, thanks and rating pages at ${width} px, ${scheme}: the choice ticked, a working button, no sideways scroll, no serious axe finding`, async () => {
        const page = await newPage(width, scheme, true);
        await page.goto(`${server.url}${storyPath}`);
        expect(await page.getByLabel('More like this').isChecked()).toBe(true);
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
        expect(await seriousViolations(page)).toEqual([]);
        await page.screenshot({
          path: path.join(shots, `feedback-story-${width}-${scheme}.png`),
          fullPage: true,
        });
        // The reader changes their mind on the page and presses the button.
        await page.getByLabel('Less like this').check();
        await page.getByRole('button', { name: 'Save my answer' }).click();
        await expect.poll(() => page.title()).toBe('Thank you');
        expect(await page.getByRole('status').textContent()).toContain('Less like this');
        expect(await page.getByLabel('Less like this').isChecked()).toBe(true);
        expect(await seriousViolations(page)).toEqual([]);
        await page.screenshot({
          path: path.join(shots, `feedback-thanks-${width}-${scheme}.png`),
          fullPage: true,
        });
        await page.goto(`${server.url}${ratingPath}`);
        expect(await page.getByLabel('OK').isChecked()).toBe(true);
        expect(await seriousViolations(page)).toEqual([]);
        await page.screenshot({
          path: path.join(shots, `feedback-rating-${width}-${scheme}.png`),
          fullPage: true,
        });
        await page.context().close();
      });
    }
  }

  it('the mail shows the links small and muted under each card and the rating at the end, light and dark', async () => {
    for (const width of [390, 1280]) {
      for (const scheme of ['light', 'dark'] as const) {
        const page = await newPage(width, scheme);
        await page.setContent(mailHtml);
        const more = page.getByRole('link', { name: 'More like this' });
        expect(await more.count()).toBeGreaterThan(4);
        // A 44 px tap target, in the muted colour of the palette.
        const box = await more.first().boundingBox();
        expect(box?.height).toBeGreaterThanOrEqual(44);
        const color = await more.first().evaluate((element) => getComputedStyle(element).color);
        expect(color).toBe(scheme === 'dark' ? 'rgb(156, 163, 175)' : 'rgb(107, 114, 128)');
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
        const card = page.locator('td', { has: more.first() }).last();
        await card.screenshot({ path: path.join(shots, `feedback-mail-card-${width}-${scheme}.png`) });
        const rating = page.locator('table', { hasText: 'How was this issue?' }).last();
        await rating.screenshot({ path: path.join(shots, `feedback-mail-rating-${width}-${scheme}.png`) });
        await page.context().close();
      }
    }
  });
});
