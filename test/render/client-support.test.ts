import { doIUseEmail } from '@jsx-email/doiuse-email';
import { describe, expect, it } from 'vitest';
import { demoEdition, demoFrame } from '../../emails/fixtures/demo-edition.ts';
import { createEditionRenderer } from '../../src/render/edition-renderer.ts';
import { loadSystemTemplates, systemMailKinds } from '../../src/render/system-mail.ts';

const clients = ['gmail.*', 'outlook.*', 'apple-mail.*'];

/** Features whose absence breaks layout or reading: never allowed, not even as partial support. */
const breaking =
  /flex|grid|position|float|background-image|background:.*url|<svg|svg|<form|<input|<button|<select|<textarea|<script|script|CSS variables|custom propert|var\(/i;

/** Unsupported somewhere but degrading gracefully; each is explained in docs/email-client-support.md. */
const documented = new Set([
  '<body> element',
  'role attribute',
  'display:none',
  'overflow',
  'opacity',
  'Class selector',
  '@media',
  'border-radius',
  'word-break',
]);

const errorsOf = (result: ReturnType<typeof doIUseEmail>): string[] =>
  'errors' in result ? result.errors : [];

const feature = (message: string) => /`([^`]+)`/.exec(message)?.[1] ?? message;

/** Measured on React Email's demo newsletter "stack-overflow-tips" with the same clients. */
const demoNewsletter = { features: 12, reports: 103 };

describe('email client support (caniemail data)', () => {
  it('the recap uses no layout-breaking feature and only the documented graceful ones, fewer than the React Email demo', () => {
    const renderer = createEditionRenderer({
      frame: demoFrame,
      secrets: { current: 'lint-secret-0123456789-abcdefghijklmnop', previous: [] },
      trackingEnabled: true,
    });
    const message = renderer.personalise(renderer.template(demoEdition()), {
      subscriberId: '3',
      email: 'a@example.com',
      name: 'Anna',
      trackingEnabled: true,
    });
    const result = doIUseEmail(message.html, { emailClients: clients });
    const errors = errorsOf(result);
    for (const report of [...errors, ...result.notes]) expect(feature(report)).not.toMatch(breaking);
    const features = new Set(errors.map(feature));
    expect([...features].filter((name) => !documented.has(name))).toEqual([]);
    expect(features.size).toBeLessThanOrEqual(demoNewsletter.features);
    expect(errors.length).toBeLessThanOrEqual(demoNewsletter.reports);
  });

  it('the MJML system mails use no layout-breaking feature', async () => {
    const templates = await loadSystemTemplates();
    for (const kind of systemMailKinds) {
      const message = templates.render(kind, {
        name: 'Anna',
        segments: 'Investors',
        week: '2026-W48',
        segment: 'investors',
        confirm_url: 'https://recap.example.com/confirm/x',
        preferences_url: 'https://recap.example.com/p/x',
        archive_url: 'https://recap.example.com/archive',
        preview_url: 'https://recap.example.com/editor',
        postal_address: 'Street 1',
        keep_url: 'https://recap.example.com/keep/x',
        grace_days: '14',
      });
      const result = doIUseEmail(message.html, { emailClients: clients });
      for (const report of [...errorsOf(result), ...result.notes]) {
        expect(feature(report), `${kind}: ${report}`).not.toMatch(breaking);
      }
      expect(message.html).not.toContain('fonts.googleapis.com');
    }
  });
});
