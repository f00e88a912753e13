import { readFile } from 'node:fs/promises';

/**
 * The text of one file of the project's templates/ folder (`confirm.mjml`). Run from the sources it is
 * read beside them; the built CLI replaces this module by one that holds every template's text
 * (scripts/build-cli.js), because a bundled chunk in dist/ has no templates/ at `../../`.
 */
export function readProjectTemplate(name: string): Promise<string> {
  return readFile(new URL(`../../templates/${name}`, import.meta.url), 'utf8');
}
