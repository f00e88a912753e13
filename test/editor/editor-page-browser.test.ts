import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { buildIssue } from '../../src/issues/build-issue.ts';
import { pinStory } from '../../src/issues/issue-overrides.repository.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { launchChromium } from '../support/chromium.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { seedWeek, testApp, WEEK } from './editor-seed.ts';

// The issue page as an editor uses it (issue 24, points 1, 2, 5 and 6): the email in the first screen,
// actions in place with Undo, overrides listed, no sideways scrolling on a phone, axe-core clean.
const artifacts = path.resolve('test-artifacts/editor');
const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const token = randomBytes(24).toString('base64url');
let t: TestDatabase;
let sink: SmtpSink;
let server: RunningServer;
let app: App;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let engineers: number;

/** Every editor page, by a short name for its screenshots. */
const editorPages = (): Array<[string, string]> => [
  ['weeks', '/'],
  ['issue', `/editor/issues/${WEEK}`],
  ['issue-mobile-view', `/editor/issues/${WEEK}?view=mobile`],
  ['dashboard', '/editor/dashboard'],
  ['stats', `/editor/issues/${WEEK}/stats`],
  ['ingestion', '/editor/ingestion'],
];

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  t = await createTestDatabase();
  sink = await startSmtpSink();
  await seedWeek(t);
  app = testApp(t, { SMTP_URL: sink.url, EDITOR_TOKEN: token });
  await buildIssue(t.db, {
    week: WEEK,
    timeZone: 'UTC',
    storiesPerSegment: app.config.selection.storiesPerSegment,
    minStoriesPerSegment: app.config.selection.minStoriesPerSegment,
    now: new Date('2026-11-23T07:00:00Z'),
  });
  engineers = (
    await t.db
      .selectFrom('segments')
      .select('id')
      .where('slug', '=', 'engineers-developers')
      .executeTakeFirstOrThrow()
  ).id;
  server = await startServer(app, { port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  // The token once in the address; from then on the cookie.
  await page.goto(`${server.url}/?token=${token}`);
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await app?.close();
  await sink?.close();
  await t?.close();
});

const section = () => page.locator('details[data-segment="engineers-developers"]');
const storyIds = () =>
  section()
    .locator('li.story')
    .evaluateAll((items) => items.map((li) => li.getAttribute('data-story')));
/** Waits for an in-place change: the rebuild and the preview's reload take a moment under load. */
const poll = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 20_000, interval: 200 });
const previewText = () => page.frameLocator('iframe.preview').locator('body').innerText();

/** axe-core's serious and critical findings on the page as it stands. */
async function seriousViolations(on: Page): Promise<string[]> {
  await on.addScriptTag({ path: axeSource });
  const found = await on.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (c: unknown) => Promise<{ violations: unknown[] }> } })
      .axe;
    const result = await axe.run(document);
    return result.violations as Array<{
      id: string;
      impact: string | null;
      nodes: Array<{ target: unknown }>;
    }>;
  });
  return found
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${JSON.stringify(v.nodes.slice(0, 3).map((n) => n.target))}`);
}

describe('the issue page in a browser', () => {
  it('shows the email in the first screen at 1280×800, beside the stories', async () => {
    await page.goto(`${server.url}/editor/issues/${WEEK}`);
    const frame = await page.locator('iframe.preview').boundingBox();
    expect(frame?.y).toBeLessThan(800);
    const firstStory = await section().locator('li.story').first().boundingBox();
    expect(firstStory?.y).toBeLessThan(800);
    // Beside: the list starts to the right of the preview, not below it.
    expect(firstStory?.x).toBeGreaterThan((frame?.x ?? 0) + (frame?.width ?? 0));
    // The segment-set menu stays clear of the "Review and approval" heading.
    const menu = await page.locator('#segment-set').boundingBox();
    const heading = await page.getByRole('heading', { name: 'Review and approval' }).boundingBox();
    expect(menu && heading).toBeTruthy();
    if (menu && heading) {
      const overlaps =
        menu.x < heading.x + heading.width &&
        heading.x < menu.x + menu.width &&
        menu.y < heading.y + heading.height &&
        heading.y < menu.y + menu.height;
      expect(overlaps).toBe(false);
    }
    // The preview is sandboxed and the page runs no inline script.
    expect(await page.locator('iframe.preview').getAttribute('sandbox')).not.toBeNull();
    expect(await page.locator('script:not([src])').count()).toBe(0);
  });

  it('names the story in every action, for screen readers', async () => {
    const titles = await section().locator('li.story .title').allInnerTexts();
    for (const title of titles) {
      expect(
        await section()
          .getByRole('button', { name: `Drop: ${title}`, exact: true })
          .count(),
      ).toBe(1);
      expect(
        await section()
          .getByRole('button', { name: `Boost: ${title}`, exact: true })
          .count(),
      ).toBe(1);
      expect(
        await section()
          .getByRole('button', { name: `Move: ${title}`, exact: true })
          .count(),
      ).toBe(1);
    }
    // No bare "Drop" or "Boost" anywhere on the page.
    expect(await page.getByRole('button', { name: 'Drop', exact: true }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Boost', exact: true }).count()).toBe(0);
  });

  it('drops a story in place (no page load), offers Undo, and Undo puts it back', async () => {
    await page.goto(`${server.url}/editor/issues/${WEEK}`);
    const before = await storyIds();
    expect(before.length).toBeGreaterThan(2);
    const dropped = before[1] as string;
    const title = await section().locator(`li.story[data-story="${dropped}"] .title`).innerText();
    await poll(previewText).toContain(title);
    // A mark on this document: a page load would lose it.
    await page.evaluate(() => {
      (window as unknown as { kept: boolean }).kept = true;
    });
    await section()
      .getByRole('button', { name: `Drop: ${title}`, exact: true })
      .click();
    await poll(storyIds).not.toContain(dropped);
    await poll(previewText).not.toContain(title);
    expect(await page.evaluate(() => (window as unknown as { kept?: boolean }).kept)).toBe(true);
    // Focus goes to the Undo of what was just done.
    await poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? '')).toBe(
      `Undo drop: ${title}`,
    );
    await page.screenshot({ path: path.join(artifacts, 'issue-after-drop-1280.png') });
    await page.keyboard.press('Enter');
    await poll(storyIds).toEqual(before);
    await poll(previewText).toContain(title);
    expect(await page.evaluate(() => (window as unknown as { kept?: boolean }).kept)).toBe(true);
  });

  it('puts a dropped story pinned again back at its place, not last', async () => {
    const before = await storyIds();
    const dropped = before[1] as string;
    const title = await section().locator(`li.story[data-story="${dropped}"] .title`).innerText();
    await section()
      .getByRole('button', { name: `Drop: ${title}`, exact: true })
      .click();
    await poll(storyIds).not.toContain(dropped);
    await section()
      .locator(`li[data-candidate="${dropped}"]`)
      .getByRole('button', { name: `Pin at place 2: ${title}`, exact: true })
      .click();
    await poll(async () => (await storyIds())[1]).toBe(dropped);
    expect(await storyIds()).toEqual(before);
  });

  it('lists the overrides with when and from where, and clears them all', async () => {
    // One made with the CLI, one older than the record of where overrides come from.
    const [cliStory, oldStory] = (await storyIds()).slice(2) as [string, string];
    await pinStory(t.db, {
      week: WEEK,
      storyId: cliStory,
      segmentId: engineers,
      position: 2,
      createdBy: 'cli',
    });
    await t.db
      .insertInto('issue_overrides')
      .values({ week: WEEK, story_id: oldStory, segment_id: engineers, kind: 'boost', boost: 0.1 })
      .execute();
    await page.goto(`${server.url}/editor/issues/${WEEK}`);
    const list = section().locator('ul.overrides li');
    const rows = await list.allInnerTexts();
    expect(rows.some((row) => /^Pinned at place 2: .*·\s*editor,/.test(row))).toBe(true);
    expect(rows.some((row) => /^Pinned at place 3: .*·\s*cli,/.test(row))).toBe(true);
    expect(rows.some((row) => /^Boosted by 0\.1: .*·\s*unknown,/.test(row))).toBe(true);
    await page.screenshot({ path: path.join(artifacts, 'issue-overrides-1280.png'), fullPage: true });
    page.once('dialog', (dialog) => dialog.accept());
    await page.getByRole('button', { name: 'Clear all overrides' }).click();
    await poll(() => list.count()).toBe(0);
    const left = await t.db.selectFrom('issue_overrides').select('id').where('week', '=', WEEK).execute();
    expect(left).toEqual([]);
  });

  it('works as plain forms without JavaScript: POST, then a redirect back to the segment', async () => {
    const ids = await storyIds();
    const story = ids[0] as string;
    const response = await fetch(
      `${server.url}/editor/issues/${WEEK}/overrides?segments=engineers-developers&view=desktop`,
      {
        method: 'POST',
        redirect: 'manual',
        headers: {
          authorization: `Bearer ${token}`,
          origin: server.url,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ action: 'drop', story, segment: String(engineers), held: '0' }),
      },
    );
    expect(response.status).toBe(303);
    const location = response.headers.get('location') ?? '';
    expect(location).toMatch(/#segment-engineers-developers$/);
    expect(location).toMatch(/[?&]undo=\d+/);

    // The same in a browser with JavaScript off: the form posts, the page comes back at the segment.
    const noScript = await browser.newContext({
      javaScriptEnabled: false,
      viewport: { width: 1280, height: 800 },
      storageState: await context.storageState(),
    });
    const plain = await noScript.newPage();
    await plain.goto(`${server.url}${location}`);
    expect(await plain.locator('#last-change').innerText()).toContain('Dropped');
    await plain.locator('#last-change').getByRole('button').click();
    await plain.waitForURL(/#segment-engineers-developers$/);
    expect(await plain.locator('.notice').innerText()).toContain('Undone: drop');
    expect(
      await plain
        .locator('details[data-segment="engineers-developers"] li.story')
        .evaluateAll((items) => items.map((li) => li.getAttribute('data-story'))),
    ).toEqual(ids);
    await noScript.close();
  });

  it('keeps script-src to its own origin on editor pages only', async () => {
    const editor = await fetch(`${server.url}/editor/issues/${WEEK}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(editor.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await editor.text()).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    const subscriberPage = await fetch(`${server.url}/subscribe`);
    expect(subscriberPage.headers.get('content-security-policy')).not.toContain('script-src');
  });

  it('never scrolls sideways at 390 px, shows focus, and axe-core finds nothing serious, on every editor page', async () => {
    const problems: string[] = [];
    // axe-core is injected as an inline script, which the editor's policy refuses: this context only.
    const checking = await browser.newContext({
      bypassCSP: true,
      storageState: await context.storageState(),
    });
    const page = await checking.newPage();
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 800 });
      for (const [name, address] of editorPages()) {
        await page.goto(`${server.url}${address}`);
        await page.screenshot({ path: path.join(artifacts, `${name}-${width}.png`), fullPage: true });
        const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
        if (width === 390 && scrollWidth > 390) problems.push(`${name}: ${scrollWidth} px wide at 390`);
        for (const finding of await seriousViolations(page)) problems.push(`${name} at ${width}: ${finding}`);
        // Keyboard order follows the page: no positive tabindex.
        const jumps = await page.locator('[tabindex]:not([tabindex="0"]):not([tabindex="-1"])').count();
        if (jumps > 0) problems.push(`${name}: ${jumps} elements with a positive tabindex`);
      }
    }
    expect(problems).toEqual([]);
    // Focus is visible: the first Tab lands on the navigation with an outline.
    await page.goto(`${server.url}/editor/issues/${WEEK}`);
    await page.keyboard.press('Tab');
    const outline = await page.evaluate(() => {
      const focused = document.activeElement as HTMLElement;
      return { text: focused.textContent, style: getComputedStyle(focused).outlineStyle };
    });
    expect(outline).toEqual({ text: 'Weeks', style: 'solid' });
    await checking.close();
  }, 240_000);
});
