import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoEdition, demoFrame } from '../../emails/fixtures/demo-edition.ts';
import { createEditionRenderer } from '../../src/render/edition-renderer.ts';
import { loadSystemTemplates } from '../../src/render/system-mail.ts';
import { launchChromium } from '../support/chromium.ts';

const artifacts = path.resolve(import.meta.dirname, '../../test-artifacts');
let browser: Browser;

beforeAll(async () => {
  await mkdir(artifacts, { recursive: true });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

async function shoot(html: string, name: string, width: number, colorScheme: 'light' | 'dark') {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  try {
    await page.emulateMedia({ colorScheme });
    // Tracked links and the pixel point at a host that does not exist here: block all requests.
    await page.route('**/*', (route) => route.abort());
    await page.setContent(html, { waitUntil: 'domcontentloaded' });
    await page.screenshot({
      path: path.join(artifacts, `${name}-${width}-${colorScheme}.png`),
      fullPage: true,
    });
    return await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
      background: getComputedStyle(document.body).backgroundColor,
    }));
  } finally {
    await page.close();
  }
}

describe('rendered email in Chromium', () => {
  const renderer = createEditionRenderer({
    frame: demoFrame,
    secrets: { current: 'screenshot-secret-0123456789-abcdefghij', previous: [] },
    trackingEnabled: true,
  });
  const recap = renderer.personalise(renderer.template(demoEdition()), {
    subscriberId: '7',
    email: 'anna@example.com',
    name: 'Anna',
    trackingEnabled: true,
  });

  it('fits a 375 px phone without horizontal scrolling, light and dark', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const metrics = await shoot(recap.html, 'weekly-recap', 375, scheme);
      expect(metrics.scrollWidth).toBeLessThanOrEqual(metrics.clientWidth);
    }
  });

  it('makes every visible link at least 44 px tall at 375 px, footer included, in light and dark', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const page = await browser.newPage({ viewport: { width: 375, height: 900 } });
      try {
        await page.emulateMedia({ colorScheme: scheme });
        await page.route('**/*', (route) => route.abort());
        await page.setContent(recap.html, { waitUntil: 'domcontentloaded' });
        const links = await page.evaluate(() =>
          Array.from(document.querySelectorAll('a'))
            .map((a) => {
              const box = a.getBoundingClientRect();
              const style = getComputedStyle(a);
              return {
                text: (a.textContent ?? '').trim(),
                height: box.height,
                width: box.width,
                color: style.color,
                underline: style.textDecorationLine,
                footer: a.closest('td.mu') !== null,
              };
            })
            .filter((link) => link.width > 0 && link.height > 0),
        );
        expect(links.length).toBeGreaterThanOrEqual(20);
        expect(links.filter((link) => link.footer).map((link) => link.text)).toEqual([
          'Manage preferences',
          'Unsubscribe',
          'Past issues',
        ]);
        const short = links.filter((link) => link.height < 44);
        expect(short).toEqual([]);
        const docWidth = await page.evaluate(() => document.documentElement.scrollWidth);
        expect(docWidth).toBeLessThanOrEqual(375);
        // In-body links (not the titles or the button) are underlined in the accent colour of the palette.
        const accent = scheme === 'dark' ? 'rgb(96, 165, 250)' : 'rgb(37, 99, 235)';
        for (const link of links.filter((l) => l.text.startsWith('Read original') || l.footer)) {
          if (link.color === accent) expect(link.underline).toBe('underline');
        }
        expect(links.some((link) => link.color === accent && link.underline === 'underline')).toBe(true);
      } finally {
        await page.close();
      }
    }
  });

  it('keeps a story with a very long unbroken word inside a 375 px screen', async () => {
    const edition = demoEdition();
    const hero = edition.hero;
    if (!hero) throw new Error('demo edition without hero');
    const long = {
      ...edition,
      hero: { ...hero, story: { ...hero.story, title: `Model-${'x'.repeat(120)}` } },
    };
    const html = renderer.archiveCopy(long).html;
    const metrics = await shoot(html, 'long-word', 375, 'light');
    expect(metrics.scrollWidth).toBeLessThanOrEqual(metrics.clientWidth);
  });

  it('switches to the dark palette when the reader prefers dark', async () => {
    expect((await shoot(recap.html, 'weekly-recap', 600, 'light')).background).toBe('rgb(255, 255, 255)');
    expect((await shoot(recap.html, 'weekly-recap', 600, 'dark')).background).toBe('rgb(11, 15, 23)');
  });

  it('renders the system mails at both widths', async () => {
    const templates = await loadSystemTemplates();
    const confirm = templates.render('confirm', {
      name: 'Anna',
      segments: 'Founders & Product Leaders',
      confirm_url: 'https://recap.example.com/confirm/x',
      postal_address: demoFrame.postalAddress,
    });
    for (const width of [600, 375]) {
      const metrics = await shoot(confirm.html, 'confirm', width, 'light');
      expect(metrics.scrollWidth).toBeLessThanOrEqual(metrics.clientWidth);
    }
    await shoot(confirm.html, 'confirm', 375, 'dark');
  });
});
