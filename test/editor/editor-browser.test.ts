import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { buildIssue } from '../../src/issues/build-issue.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { launchChromium } from '../support/chromium.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { seedWeek, TEST_RECIPIENT, testApp, WEEK } from './editor-seed.ts';

const artifacts = path.resolve('test-artifacts/editor');
let t: TestDatabase;
let sink: SmtpSink;
let server: RunningServer;
let app: App;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  t = await createTestDatabase();
  sink = await startSmtpSink();
  await seedWeek(t);
  app = testApp(t, { SMTP_URL: sink.url });
  await buildIssue(t.db, {
    week: WEEK,
    timeZone: 'UTC',
    storiesPerSegment: app.config.selection.storiesPerSegment,
    minStoriesPerSegment: app.config.selection.minStoriesPerSegment,
    now: new Date('2026-11-23T07:00:00Z'),
  });
  server = await startServer(app, { port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await app?.close();
  await sink?.close();
  await t?.close();
});

const shot = (name: string) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
const section = () => page.locator('details[data-segment="engineers-developers"]');
const storyIds = () =>
  section()
    .locator('li.story')
    .evaluateAll((items) => items.map((li) => li.getAttribute('data-story')));

describe('the editor in a browser', () => {
  it('opens the week, shows the email, switches to mobile', async () => {
    // The link the server printed: it sets the editor's cookie and leads to the clean address.
    await page.goto(`${server.url}/?token=${server.editor.token}`);
    expect(page.url()).toBe(`${server.url}/`);
    await page.getByRole('link', { name: WEEK, exact: true }).click();
    await expect.poll(() => page.title()).toContain(`Issue ${WEEK}`);
    const frame = page.frameLocator('iframe.preview');
    await expect.poll(() => frame.locator('body').innerText()).toContain('Weekly AI Recap');
    await shot('1-preview-desktop');

    await page.getByRole('link', { name: 'Mobile 375 px' }).click();
    // The email's viewport inside the frame is 375 CSS pixels wide, as on a phone.
    await expect
      .poll(async () =>
        (await (await page.locator('iframe.preview').elementHandle())?.contentFrame())?.evaluate(
          () => window.innerWidth,
        ),
      )
      .toBe(375);
    expect(await page.locator('.tabs a[aria-current="page"]').innerText()).toBe('Mobile 375 px');
    await shot('2-preview-mobile');

    await page.getByRole('link', { name: 'Plain text' }).click();
    await expect
      .poll(() => page.frameLocator('iframe.preview').locator('body').innerText())
      .toContain('WEEKLY AI RECAP');
    await page.getByRole('link', { name: 'Dark' }).click();
    const dark = await (await page.locator('iframe.preview').elementHandle())?.contentFrame();
    // Either the template's own dark rules are on, or the page is inverted as forced dark mode does.
    await expect
      .poll(() =>
        dark?.evaluate(
          () =>
            getComputedStyle(document.documentElement).filter +
            getComputedStyle(document.body).backgroundColor,
        ),
      )
      .toMatch(/invert|rgb\((\d|[1-5]\d),/);
    await shot('2b-preview-dark');
    await page.getByRole('link', { name: 'Mobile 375 px' }).click();
    await expect.poll(() => page.locator('.tabs a[aria-current="page"]').innerText()).toBe('Mobile 375 px');
  });

  it('pins a story first and the preview follows', async () => {
    const before = await storyIds();
    expect(before.length).toBeGreaterThan(2);
    const last = before[before.length - 1] as string;
    const title = await section().locator(`li.story[data-story="${last}"] .title`).innerText();
    // Reordering is explicit: "Move to position 1", in place (the page is not reloaded).
    const story = section().locator(`li.story[data-story="${last}"]`);
    await story.getByLabel('Move to position', { exact: false }).fill('1');
    await story.getByRole('button', { name: `Move: ${title}` }).click();
    await expect.poll(() => page.locator('.notice').innerText()).toContain('Pinned at place 1');
    expect((await storyIds())[0]).toBe(last);
    // The mobile tab stays selected, and the email now leads with the pinned story.
    expect(await page.locator('iframe.preview').getAttribute('class')).toContain('mobile');
    const others = await section().locator('li.story .title').allInnerTexts();
    const leadsWith = async () => {
      const text = await page.frameLocator('iframe.preview').locator('body').innerText();
      return others.slice(1).every((other) => text.indexOf(title) < text.indexOf(other));
    };
    await expect.poll(leadsWith).toBe(true);
    await shot('3-pinned');
  });

  it('sends a test that arrives at the SMTP sink', async () => {
    await page.locator('select[name="recipient"]').selectOption(TEST_RECIPIENT);
    // By keyboard: while the reloaded preview settles, a pointer click can land on the preview instead.
    await page.getByRole('button', { name: 'Send test' }).press('Enter');
    await expect.poll(() => page.locator('.notice').innerText()).toContain(`sent to ${TEST_RECIPIENT}`);
    // The test copy and its notice, both to the chosen address.
    await expect.poll(() => sink.messages.length).toBe(2);
    expect(sink.messages.map((m) => m.parsed.subject?.slice(0, 7)).sort()).toEqual(['Test se', '[TEST] ']);
    expect(sink.messages.map((m) => m.envelopeTo)).toEqual([[TEST_RECIPIENT], [TEST_RECIPIENT]]);
    await shot('4-test-sent');
  });

  it('approves the issue', async () => {
    await page.getByRole('button', { name: /^Approve — goes out / }).press('Enter');
    await expect.poll(() => page.locator('.notice').innerText()).toContain('is approved');
    expect(await page.locator('.badge').first().innerText()).toBe('approved');
    expect(await page.getByRole('button', { name: /^Move/ }).count()).toBe(0);
    const row = await t.db
      .selectFrom('issues')
      .select('status')
      .where('week', '=', WEEK)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('approved');
    await shot('5-approved');
  });

  it('shows the dashboard with its charts', async () => {
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await expect.poll(() => page.locator('svg.chart').count()).toBe(4);
    await shot('6-dashboard');
  });
});
