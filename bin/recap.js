#!/usr/bin/env node
// Runs the CLI compiled to dist/ by `npm ci` (scripts/build-cli.js). When a source changed since that
// build, it is rebuilt first (about a second), so an edited checkout never runs stale code. Where the
// build cannot be written (a read-only install), tsx compiles the sources on load instead.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildCli, freshEntry } from '../scripts/build-cli.js';

let entry = freshEntry();
if (!entry) {
  try {
    entry = await buildCli();
  } catch (error) {
    process.stderr.write(
      `recap: cannot build dist/ (${error instanceof Error ? error.message : String(error)}); compiling on load\n`,
    );
  }
}
if (entry) {
  const { main } = await import(pathToFileURL(entry).href);
  await main(process.argv);
} else {
  const { register } = await import('tsx/esm/api');
  // The project's tsconfig (JSX runtime, module settings) must apply wherever the command is run from.
  register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
  const { main } = await import('../src/cli/main.ts');
  await main(process.argv);
}
