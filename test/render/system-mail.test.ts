import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { theme } from '../../emails/theme.ts';
import { loadSystemTemplates, systemMailKinds } from '../../src/render/system-mail.ts';

const templatesDir = path.resolve(import.meta.dirname, '../../templates');
const scratch: string[] = [];
afterAll(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

async function copyOfTemplates(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'recap-templates-'));
  scratch.push(dir);
  await cp(templatesDir, dir, { recursive: true });
  return dir;
}

const vars = {
  name: 'Anna Müller',
  segments: 'Investors & Policy <Legal>',
  confirm_url: 'https://recap.example.com/confirm/v.1.abc',
  preferences_url: 'https://recap.example.com/p/p.1.abc',
  archive_url: 'https://recap.example.com/archive',
  preview_url: 'https://recap.example.com/editor/issues/2026-W48',
  week: '2026-W48',
  segment: 'investors',
  postal_address: '1 Example Street, Berlin',
  keep_url: 'https://recap.example.com/keep/r.1.abc',
  grace_days: '14',
};

describe('system mail templates', () => {
  it('compiles every MJML template and renders subject, html and text with escaped variables and the theme', async () => {
    const templates = await loadSystemTemplates();
    for (const kind of systemMailKinds) {
      const message = templates.render(kind, vars);
      expect(message.subject.length).toBeGreaterThan(10);
      expect(message.html).not.toMatch(/\{\{|\}\}|undefined/);
      expect(message.text).not.toMatch(/\{\{|\}\}|undefined/);
      expect(message.html).toContain(theme.light.accent);
      expect(message.html).toContain('1 Example Street, Berlin');
      expect(message.text).toContain('Hi Anna,');
    }
    const confirm = templates.render('confirm', vars);
    expect(confirm.html).toContain('Investors &amp; Policy &lt;Legal&gt;');
    expect(confirm.text).toContain('Investors & Policy <Legal>');
    expect(confirm.text).toContain('\nhttps://recap.example.com/confirm/v.1.abc\n');
    expect(confirm.html).toContain('href="https://recap.example.com/confirm/v.1.abc"');
    expect(templates.render('test-notice', vars).subject).toBe(
      'Test send: Weekly AI Recap 2026-W48 (investors)',
    );
  });

  it('refuses a non-http(s) URL and missing variables', async () => {
    const templates = await loadSystemTemplates();
    expect(() => templates.render('confirm', { ...vars, confirm_url: 'javascript:alert(1)' })).toThrow(
      /confirm_url/,
    );
    expect(() => templates.render('welcome', { name: 'A' })).toThrow(/missing variables .*preferences_url/);
  });

  it('fails start-up with the file and line of an invalid template', async () => {
    const dir = await copyOfTemplates();
    const file = path.join(dir, 'welcome.mjml');
    const lines = (await readFile(file, 'utf8')).split('\n');
    const at = lines.findIndex((line) => line.includes('<mj-button'));
    lines[at] = lines[at]?.replace('<mj-button', '<mj-button colour="red"') ?? '';
    await writeFile(file, lines.join('\n'));
    await expect(loadSystemTemplates(dir)).rejects.toThrow(`${file}:${at + 1}:`);
    await expect(loadSystemTemplates(dir)).rejects.toThrow(/colour/);
  });

  it('names the file and line of an unknown theme token', async () => {
    const dir = await copyOfTemplates();
    const file = path.join(dir, 'goodbye.mjml');
    await writeFile(file, (await readFile(file, 'utf8')).replace('{{theme.accent}}', '{{theme.acent}}'));
    await expect(loadSystemTemplates(dir)).rejects.toThrow(/goodbye\.mjml:\d+: unknown theme token/);
  });
});
