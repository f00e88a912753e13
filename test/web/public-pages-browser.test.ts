import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { signToken } from '../../src/tracking/token.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { testApp } from '../editor/editor-seed.ts';
import { launchChromium } from '../support/chromium.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { SENT_KEYS, seedSentIssues, WEEK } from './public-seed.ts';

// Eight pages with axe at two widths, or sixteen screenshots, on a machine shared under load.
vi.setConfig({ testTimeout: 240_000 });

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const shots = process.env.RECAP_SHOTS_DIR ?? path.resolve('test-artifacts/public-pages');
let t: TestDatabase;
let sink: SmtpSink;
let app: App;
let server: RunningServer;
let host: Server;
let hostUrl: string;
let browser: Browser;
let readerPaths: { preferences: string; unsubscribe: string };

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  t = await createTestDatabase();
  sink = await startSmtpSink();
  await seedSentIssues(t);
  app = testApp(t, { SMTP_URL: sink.url, SIGNUP_MIN_FILL_SECONDS: '0' });
  server = await startServer(app, { port: 0, host: '127.0.0.1', signUpsPerHour: 100 });
  const reader = await t.db.selectFrom('subscribers').select('id').orderBy('id').executeTakeFirstOrThrow();
  const issue = await t.db
    .selectFrom('issues')
    .select('id')
    .where('week', '=', WEEK)
    .executeTakeFirstOrThrow();
  readerPaths = {
    preferences: `/p/${signToken(app.config.secrets, { kind: 'preferences', subscriberId: reader.id })}`,
    unsubscribe: `/u/${signToken(app.config.secrets, { kind: 'unsubscribe', subscriberId: reader.id, issueId: issue.id })}`,
  };
  // Another site (another origin: another port) that embeds the sign-up as README shows.
  host = createServer((_request, response) => {
    response.setHeader('content-type', 'text/html; charset=utf-8');
    response.end(`<!doctype html><html lang="en"><head><title>Host site</title></head><body><h1>Our blog</h1>
<iframe src="${server.url}/subscribe?embed=1" title="Subscribe to the Weekly AI Recap" width="100%" height="640" style="border:0;max-width:28rem"></iframe></body></html>`);
  });
  await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
  hostUrl = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
  browser = await launchChromium();
}, 300_000);
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => host?.close(resolve));
  await server?.close();
  await app?.close();
  await sink?.close();
  await t?.close();
});

async function newPage(
  width: number,
  colorScheme: 'light' | 'dark' = 'light',
  /** Lets axe's injected script run despite the pages' `default-src 'none'`. */
  bypassCSP = false,
): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 900 }, colorScheme, bypassCSP });
  return context.newPage();
}

/** axe-core's serious and critical findings on the page as it stands. */
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
  // A page axe found nothing to check on would pass silently.
  expect(result.passes.length).toBeGreaterThan(10);
  return result.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id}: ${JSON.stringify(violation.nodes.map((node) => node.target))}`);
}

/** Fills the sign-up form as a person does and lands on "Check your inbox". */
async function signUp(page: Page, email: string) {
  await page.goto(`${server.url}/subscribe`);
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Subscribe' }).click();
  await expect.poll(() => page.title()).toBe('Check your inbox');
}

describe('public pages at 375 and 1280 px', () => {
  for (const width of [375, 1280]) {
    it(`archive index, issue, edition copy, sign-up, check-inbox, preferences, unsubscribe at ${width} px: no sideways scroll, no serious axe finding`, async () => {
      const page = await newPage(width, 'light', true);
      const visit = async (where: string) => {
        if (where === 'check-inbox') await signUp(page, `axe-${width}@example.org`);
        else await page.goto(`${server.url}${where}`);
        const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
        return { where, scrollWidth, violations: await seriousViolations(page) };
      };
      const results = [];
      for (const where of [
        '/archive',
        `/archive/${WEEK}`,
        `/archive/${WEEK}/${SENT_KEYS[1]}`,
        '/subscribe',
        '/subscribe?embed=1',
        'check-inbox',
        readerPaths.preferences,
        readerPaths.unsubscribe,
      ]) {
        results.push(await visit(where));
      }
      expect(results.filter((result) => result.violations.length > 0)).toEqual([]);
      if (width === 375) expect(results.filter((result) => result.scrollWidth > 375)).toEqual([]);
      await page.context().close();
    });
  }

  it('the archive index lists subjects and dates; an issue page carries no personal text and no tracked link', async () => {
    for (const width of [375, 1280]) {
      const page = await newPage(width);
      await page.goto(`${server.url}/archive`);
      const items = page.locator('ol.issues > li');
      await expect.poll(() => items.count()).toBe(2);
      expect(await items.first().locator('h2').innerText()).toMatch(/^(?!Weekly AI Recap:)\S/);
      expect(await items.first().locator('time').innerText()).toBe('16–22 Nov 2026');
      await items.first().locator('h2 a').click();
      await expect.poll(() => page.url()).toBe(`${server.url}/archive/${WEEK}`);
      const text = await page.locator('body').innerText();
      expect(text).not.toMatch(/You receive|because you subscribed|Hi there|Manage preferences/);
      const hrefs = await page
        .locator('a[href]')
        .evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
      expect(hrefs.filter((href) => /\/(o|c|u|p)\//.test(href))).toEqual([]);
      expect(await page.locator('img').count()).toBe(0);
      await page.context().close();
    }
  });
});

describe('screenshots', () => {
  it('archive index, archive issue and sign-up at 375 and 1280 px, light and dark', async () => {
    const target = process.env.RECAP_SHOTS_DIR ? shots : path.join(shots);
    for (const width of [375, 1280]) {
      for (const scheme of ['light', 'dark'] as const) {
        const page = await newPage(width, scheme);
        for (const [name, where] of [
          ['archive-index', '/archive'],
          ['archive-issue', `/archive/${WEEK}`],
          ['archive-edition', `/archive/${WEEK}/${SENT_KEYS[1]}`],
          ['signup', '/subscribe'],
        ] as const) {
          await page.goto(`${server.url}${where}`);
          await page.screenshot({
            path: path.join(target, `public-archive-${name}-${width}-${scheme}.png`),
            fullPage: true,
          });
        }
        await signUp(page, `shot-${width}-${scheme}@example.org`);
        await page.screenshot({
          path: path.join(target, `public-archive-check-inbox-${width}-${scheme}.png`),
          fullPage: true,
        });
        await page.context().close();
      }
    }
  });
});

describe('the sign-up in a browser', () => {
  it('unticking every topic is a form error, not "every topic"', async () => {
    const page = await newPage(375);
    await page.goto(`${server.url}/subscribe`);
    await page.getByLabel('Email address').fill('untick@example.org');
    for (const box of await page.locator('fieldset input[type=checkbox]').all()) await box.uncheck();
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await expect.poll(() => page.getByRole('alert').innerText()).toContain('Choose at least one topic');
    expect(await page.getByLabel('Email address').inputValue()).toBe('untick@example.org');
    const stored = await t.db
      .selectFrom('subscribers')
      .select('id')
      .where('email', '=', 'untick@example.org')
      .execute();
    expect(stored).toEqual([]);
    await page.context().close();
  });

  it('works embedded in another site: the frame loads the form and submits it', async () => {
    const page = await newPage(1280);
    await page.goto(hostUrl);
    const frame = page.frameLocator('iframe');
    await frame.getByLabel('Email address').fill('framed@example.org');
    await frame.getByRole('button', { name: 'Subscribe' }).click();
    await expect.poll(() => frame.locator('h1').innerText()).toBe('Check your inbox');
    expect(await frame.locator('body').innerText()).toContain('framed@example.org');
    await page.screenshot({ path: path.join(shots, 'public-archive-embed-1280-light.png'), fullPage: true });
    await expect
      .poll(() => sink.messages.some((m) => m.envelopeTo.includes('framed@example.org')), { timeout: 20_000 })
      .toBe(true);
    await page.context().close();
  });

  it('can be walked with the keyboard alone: address, topics, tracking, subscribe, resend', async () => {
    const page = await newPage(375);
    await page.goto(`${server.url}/subscribe`);
    const focused = () =>
      page.evaluate(() => {
        const element = document.activeElement as HTMLInputElement | null;
        return element
          ? `${element.tagName.toLowerCase()}:${element.name || element.textContent?.trim()}`
          : '';
      });
    const order: string[] = [];
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Tab');
      order.push(await focused());
      if (order.at(-1) === 'input:email') await page.keyboard.type('keys@example.org');
      if (order.at(-1) === 'button:Subscribe') break;
    }
    expect(order).toEqual([
      'a:Read the latest issue',
      'input:email',
      'input:segment',
      'input:segment',
      'input:tracking',
      'button:Subscribe',
    ]);
    await page.screenshot({
      path: path.join(shots, 'public-archive-signup-keyboard-375.png'),
      fullPage: true,
    });
    await page.keyboard.press('Enter');
    await expect.poll(() => page.title()).toBe('Check your inbox');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('button:Send the link again');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('status').innerText()).toContain('If a new link could be sent');
    await page.context().close();
  });
});
