import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { createEditorSender, type EditorSender } from '../../src/delivery/editor-send.ts';
import { beatWorker } from '../../src/delivery/worker-heartbeat.repository.ts';
import { buildIssue } from '../../src/issues/build-issue.ts';
import { approveIssue } from '../../src/issues/issue-lifecycle.ts';
import { ensureSegments } from '../../src/stories/story.repository.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { launchChromium } from '../support/chromium.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { seedWeek, testApp, WEEK } from './editor-seed.ts';

// The writing form, the inbox preview and the approval review as an editor uses them, at 1280 and
// 390 px: no sideways scrolling, axe-core clean, screenshots for the record.
const shots = process.env.RECAP_SHOTS_DIR ?? path.resolve('test-artifacts/editor');
const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const token = randomBytes(24).toString('base64url');
let t: TestDatabase;
let sink: SmtpSink;
let server: RunningServer;
let app: App;
let browser: Browser;
let sender: EditorSender;

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  t = await createTestDatabase();
  sink = await startSmtpSink();
  await seedWeek(t);
  await ensureSegments(t.db, ['Astronomers']);
  app = testApp(t, {
    SMTP_URL: sink.url,
    EDITOR_TOKEN: token,
    RECAP_TZ: 'Europe/Berlin',
    RECAP_CRON: '0 8 * * 1',
  });
  await buildIssue(t.db, {
    week: WEEK,
    timeZone: 'Europe/Berlin',
    storiesPerSegment: app.config.selection.storiesPerSegment,
    minStoriesPerSegment: app.config.selection.minStoriesPerSegment,
    now: new Date('2026-11-22T10:00:00Z'),
  });
  sender = createEditorSender({ db: t.db, config: app.config, mailer: app.mailer });
  server = await startServer(app, {
    port: 0,
    host: '127.0.0.1',
    now: () => new Date('2026-11-22T10:00:00Z'),
    editorSender: sender,
  });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await sender?.close();
  await app?.close();
  await sink?.close();
  await t?.close();
});

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

async function checkPage(page: Page, name: string, width: number, problems: string[]): Promise<void> {
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  if (width === 390 && scrollWidth > 390) problems.push(`${name}: ${scrollWidth} px wide at 390`);
  // No table squeezes a column to a few letters a line (the review table did: 27,000 px tall on a phone).
  const narrowCells = await page.evaluate(
    () =>
      Array.from(document.querySelectorAll('td')).filter(
        (td) => (td.textContent ?? '').trim().length > 12 && td.getBoundingClientRect().width < 80,
      ).length,
  );
  if (narrowCells > 0) problems.push(`${name} at ${width}: ${narrowCells} table cells narrower than 80 px`);
  if (width === 390) {
    // The per-set tables (review, reading time) are one card per row on a phone.
    const tableRows = await page.evaluate(() =>
      Array.from(document.querySelectorAll('#review tbody tr, #reading-budget tbody tr')).map(
        (tr) => getComputedStyle(tr).display,
      ),
    );
    if (tableRows.some((display) => display !== 'block'))
      problems.push(`${name}: per-set table rows are not cards at 390`);
  }
  for (const finding of await seriousViolations(page)) problems.push(`${name} at ${width}: ${finding}`);
}

describe('writing and approval in a browser', () => {
  it('writes a note and subject, shows them in the inbox preview, and approves after review, at 1280 and 390 px', async () => {
    const problems: string[] = [];
    // axe-core is injected as an inline script, which the editor's policy refuses: this context only.
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/?token=${token}`);
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 800 });
      await page.goto(`${server.url}/editor/issues/${WEEK}`);
      await page
        .locator('#note')
        .fill(`Note at ${width} px: a quiet week, read https://recap.example.org/w47.`);
      await page.locator('#subject-override').fill('Chips, audits and cheaper inference this week');
      await page.locator('#preheader-override').fill('Six stories for builders and policy people');
      await Promise.all([
        page.waitForURL(/notice=/),
        page.getByRole('button', { name: 'Save note and subject' }).click(),
      ]);
      expect(await page.locator('#subject').textContent()).toBe(
        'Chips, audits and cheaper inference this week',
      );
      expect(await page.locator('[data-client="gmail-phone"] .inbox-subject').textContent()).toBe(
        'Chips, audits and cheaper infer…',
      );
      expect(await page.frameLocator('iframe.preview').locator('body').innerText()).toContain(
        `Note at ${width} px`,
      );
      await page
        .locator('#writing')
        .screenshot({ path: path.join(shots, `editor-writing-inbox-${width}.png`) });
      await checkPage(page, 'writing', width, problems);

      // Approval: refused with an empty segment, accepted with the box and a reason.
      await Promise.all([page.waitForURL(/error=/), page.locator('#approve').click()]);
      expect(await page.locator('.error').textContent()).toContain('"Astronomers" has no stories');
      expect(await page.locator('#approve').textContent()).toBe(
        'Approve — goes out Mon 23 Nov, 08:00 Europe/Berlin (in 21 hours)',
      );
      await page
        .locator('#approval')
        .screenshot({ path: path.join(shots, `editor-writing-approval-${width}.png`) });
      await checkPage(page, 'approval', width, problems);
      await page.getByLabel(/Approve with this segment empty/).check();
      await page.getByLabel('Reason (required with the box)').fill('no astronomy this week');
      await Promise.all([page.waitForURL(/notice=/), page.locator('#approve').click()]);
      expect(await page.locator('.notice').textContent()).toContain('is approved');
      expect(await page.locator('#note').isDisabled()).toBe(true);
      await page
        .locator('#approval')
        .screenshot({ path: path.join(shots, `editor-writing-approved-${width}.png`) });
      await checkPage(page, 'approved', width, problems);
      await Promise.all([
        page.waitForURL(/notice=/),
        page.getByRole('button', { name: 'Back to draft' }).click(),
      ]);
      expect(await page.locator('.notice').textContent()).toContain('is a draft again');
      expect(await page.locator('#note').isDisabled()).toBe(false);
    }
    expect(problems).toEqual([]);
    await context.close();
  }, 240_000);

  it('starts a send after a confirmation page and updates its progress without a reload, at 1280 and 390 px', async () => {
    const problems: string[] = [];
    await approveIssue(t.db, WEEK, {
      allowEmpty: true,
      reason: 'no astronomy this week',
      timeZone: 'Europe/Berlin',
    });
    // A worker elsewhere is alive, so this server leaves the send to it and the figures change only here.
    await beatWorker(t.db, { workerId: 'elsewhere:7:abc', kind: 'worker' });
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/?token=${token}`);
    await page.goto(`${server.url}/editor/issues/${WEEK}#send`);
    await page.locator('#send-start').click();
    await page.waitForSelector('#confirm-start');
    expect(await page.locator('#confirm-question').textContent()).toContain(`Start sending ${WEEK} now?`);
    await Promise.all([page.waitForURL(/notice=/), page.locator('#confirm-start').click()]);
    expect(await page.locator('.notice').textContent()).toContain('with the workers alive');
    expect(await page.locator('[data-field="sent"]').textContent()).toBe('0 of 4');
    expect(await page.locator('#workers').textContent()).toMatch(/^Workers alive: .+ \(recap worker\)$/);
    // Marked on this page: a reload would lose it.
    await page.evaluate(() => {
      (window as unknown as { stayed: boolean }).stayed = true;
    });
    const issue = await t.db
      .selectFrom('issues')
      .select('id')
      .where('week', '=', WEEK)
      .executeTakeFirstOrThrow();
    const first = await t.db
      .selectFrom('deliveries')
      .select('id')
      .where('issue_id', '=', issue.id)
      .orderBy('id')
      .limit(2)
      .execute();
    await t.db
      .updateTable('deliveries')
      .set({ status: 'sent', sent_at: new Date() })
      .where(
        'id',
        'in',
        first.map((row) => row.id),
      )
      .execute();
    await expect
      .poll(() => page.locator('[data-field="sent"]').textContent(), { timeout: 15_000 })
      .toBe('2 of 4');
    expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
    expect(await page.locator('[data-field="rate"]').textContent()).toBe('2 messages/min');
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 800 });
      await page.locator('#send').screenshot({ path: path.join(shots, `editor-writing-send-${width}.png`) });
      await checkPage(page, 'send', width, problems);
    }
    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);
});
