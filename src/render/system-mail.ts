import { readFile } from 'node:fs/promises';
import path from 'node:path';
import mjml from 'mjml';
import { themeVariables } from '../../emails/theme.ts';
import { greetingFor } from './edition-renderer.ts';
import { escapeHtml } from './html-escape.ts';
import { readProjectTemplate } from './project-templates.ts';
import type { RenderedMessage } from './rendered-message.ts';
import { safeHttpUrl } from './safe-url.ts';

export type SystemMailKind = 'confirm' | 'welcome' | 'goodbye' | 'test-notice' | 'reengage';

export const systemMailKinds: readonly SystemMailKind[] = [
  'confirm',
  'welcome',
  'goodbye',
  'test-notice',
  'reengage',
];

export interface SystemTemplates {
  /**
   * Fills a compiled template. `vars` are text: escaped in the HTML, verbatim in the plain text; a variable
   * whose name ends in `_url` must be an http(s) URL. `greeting` defaults to "Hi <first name>," from
   * `name`. Throws when a variable the template uses is missing or a URL is not http(s).
   */
  render(kind: SystemMailKind, vars: Record<string, string>): RenderedMessage;
}

interface Compiled {
  file: string;
  subject: string[];
  html: string[];
  text: string[];
}

const VARIABLE = /\{\{([a-z_]+)\}\}/;

/** Replaces `{{theme.NAME}}` by the shared theme tokens; an unknown token is an error at its line. */
function applyTheme(source: string, file: string): string {
  const tokens = themeVariables();
  return source.replace(/\{\{theme\.([a-zA-Z.]+)\}\}/g, (match, name: string, offset: number) => {
    const value = tokens[name];
    if (value === undefined) {
      const line = source.slice(0, offset).split('\n').length;
      throw new Error(`${file}:${line}: unknown theme token ${match}`);
    }
    return value;
  });
}

function textBlock(source: string, file: string): string {
  const found = /<!--[\s\S]*?^text:\n([\s\S]*?)-->/m.exec(source);
  if (!found?.[1])
    throw new Error(`${file}:1: missing the plain-text block (a leading comment with a "text:" line)`);
  return `${found[1].trim()}\n`;
}

function decodeTitle(title: string): string {
  return title
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&amp;/g, '&')
    .trim();
}

/** `file` names the template in errors; `folder`, when the template is a file on disk, resolves its mj-include. */
async function compile(file: string, raw: string, folder: string | undefined): Promise<Compiled> {
  const source = applyTheme(raw, file);
  let result: Awaited<ReturnType<typeof mjml>>;
  try {
    result = await mjml(source, {
      validationLevel: 'strict',
      keepComments: false,
      // No web fonts: MJML would otherwise link Google Fonts for "Roboto" in the system font stack.
      fonts: {},
      minify: false,
      ...(folder === undefined ? {} : { filePath: file }),
    });
  } catch (error) {
    const details = (error as { errors?: Array<{ line?: number; message?: string; tagName?: string }> })
      .errors;
    if (details && details.length > 0) {
      throw new Error(
        details
          .map((d) => `${file}:${d.line ?? '?'}: ${d.tagName ?? ''} ${d.message ?? ''}`.replace(/ +/g, ' '))
          .join('\n'),
      );
    }
    throw new Error(`${file}: ${(error as Error).message}`);
  }
  const title = /<title>([\s\S]*?)<\/title>/.exec(result.html)?.[1];
  if (!title?.trim()) throw new Error(`${file}:1: missing <mj-title> (the subject line)`);
  return {
    file,
    subject: decodeTitle(title).split(VARIABLE),
    html: result.html.split(VARIABLE),
    text: textBlock(source, file).split(VARIABLE),
  };
}

/** Odd indexes of a split are variable names. */
function fill(parts: string[], vars: Record<string, string>, encode: (value: string) => string): string {
  let out = '';
  parts.forEach((part, index) => {
    out += index % 2 === 0 ? part : encode(vars[part] ?? '');
  });
  return out;
}

function namesIn(parts: string[]): string[] {
  return parts.filter((_, index) => index % 2 === 1);
}

/**
 * Compiles every system mail template (`confirm`, `welcome`, `goodbye`, `test-notice`, `reengage` `.mjml`)
 * once, with MJML strict validation: those of `dir` when given, else the project's templates/ (built
 * into the compiled CLI). Throws with the file and line of the first missing or invalid template; a
 * caller that keeps the result must not keep a failed attempt.
 */
export async function loadSystemTemplates(dir?: string): Promise<SystemTemplates> {
  const compiled = new Map<SystemMailKind, Compiled>();
  for (const kind of systemMailKinds) {
    const name = `${kind}.mjml`;
    const file = dir === undefined ? `templates/${name}` : path.join(dir, name);
    const raw = dir === undefined ? await readProjectTemplate(name) : await readFile(file, 'utf8');
    compiled.set(kind, await compile(file, raw, dir));
  }
  return {
    render(kind, given) {
      const template = compiled.get(kind);
      if (!template) throw new Error(`unknown system mail ${kind}`);
      const vars: Record<string, string> = { greeting: greetingFor(given.name ?? null), ...given };
      const used = new Set([
        ...namesIn(template.subject),
        ...namesIn(template.html),
        ...namesIn(template.text),
      ]);
      const missing = [...used].filter((name) => vars[name] === undefined);
      if (missing.length > 0) throw new Error(`${kind} mail: missing variables ${missing.join(', ')}`);
      for (const name of used) {
        if (name.endsWith('_url') && safeHttpUrl(vars[name]) === null) {
          throw new Error(`${kind} mail: ${name} must be an http(s) URL`);
        }
      }
      const oneLine = (value: string) => value.replace(/[\r\n]+/g, ' ');
      return {
        subject: fill(template.subject, vars, oneLine),
        html: fill(template.html, vars, escapeHtml),
        text: fill(template.text, vars, (value) => value),
        headers: {},
      };
    },
  };
}
