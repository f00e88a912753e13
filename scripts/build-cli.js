// Compiles the CLI (src/cli/main.ts and everything it imports) to JavaScript in dist/, so `recap`
// starts without transpiling TypeScript. Run by `npm ci` (the `prepare` script) and, when a source
// changed since, by bin/recap.js itself: a stale build never runs.
//
// dist/build.json names the build in use and every source file it was made from with its size and
// modification time; bin/recap.js compares those with the files on disk (a few stat calls) and rebuilds
// on any difference. Each build goes to its own folder, renamed into place when complete, so processes
// started together never read a half-written build.
//
// The build reads no project file at run time: the bundled code sits in dist/build-*/chunks/, where a
// path relative to import.meta.url leads nowhere, so templates/*.mjml are compiled in as text (see
// inlineProjectTemplates) and, being inputs of the build, are part of its fingerprint.
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const distDir = path.join(root, 'dist');
const manifestFile = path.join(distDir, 'build.json');
/** Files that change the output without being imported: the bundler's settings and this script. */
const settingsFiles = ['tsconfig.json', 'package.json', 'scripts/build-cli.js'];
/** Packages compiled into dist/ rather than loaded from node_modules (see the build options). */
const bundled = new Set(['kysely']);

/** Size and mtime of each file, one digest: changes when any file is edited, added to the list or removed. */
export function fingerprint(files) {
  const hash = createHash('sha256');
  for (const file of files) {
    let line;
    try {
      const stat = statSync(path.join(root, file));
      line = `${file}\t${stat.size}\t${stat.mtimeMs}`;
    } catch {
      line = `${file}\tmissing`;
    }
    hash.update(`${line}\n`);
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The entry module of an up-to-date build, or null when there is none or a source changed since.
 * Cheap: one small JSON read and a stat per source file.
 */
export function freshEntry() {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  } catch {
    return null;
  }
  if (fingerprint(manifest.inputs) !== manifest.fingerprint) return null;
  const entry = path.join(distDir, manifest.dir, 'main.js');
  return existsSync(entry) ? entry : null;
}

/** Builds dist/ from the sources and makes it the build in use; returns its entry module. */
export async function buildCli() {
  const { build } = await import('esbuild');
  for (;;) {
    const startedAt = Date.now();
    const temp = path.join(distDir, `.tmp-${process.pid}-${startedAt}`);
    mkdirSync(distDir, { recursive: true });
    const result = await build({
      absWorkingDir: root,
      entryPoints: { main: 'src/cli/main.ts' },
      outdir: temp,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      // Dependencies load from node_modules as installed, except Kysely: its ESM build is ~1,000 small
      // modules, which cost more to resolve at start-up than the one chunk the bundler makes of them.
      external: externalPackages(),
      tsconfig: path.join(root, 'tsconfig.json'),
      jsx: 'automatic',
      chunkNames: 'chunks/[name]-[hash]',
      loader: { '.mjml': 'text' },
      plugins: [inlineProjectTemplates],
      metafile: true,
      logLevel: 'warning',
    });
    const inputs = [
      ...Object.keys(result.metafile.inputs).filter((file) => !file.includes('node_modules/')),
      ...settingsFiles,
    ].sort();
    // A file saved while the bundler read it: build again rather than record a mismatched stamp.
    if (inputs.some((file) => fileTime(file) >= startedAt)) {
      rmSync(temp, { recursive: true, force: true });
      continue;
    }
    const print = fingerprint(inputs);
    const dir = `build-${print}`;
    const target = path.join(distDir, dir);
    if (existsSync(target)) rmSync(temp, { recursive: true, force: true });
    else {
      try {
        renameSync(temp, target);
      } catch {
        // Another process put the same build there first.
        rmSync(temp, { recursive: true, force: true });
      }
    }
    const manifestTemp = `${manifestFile}.${process.pid}`;
    writeFileSync(manifestTemp, `${JSON.stringify({ fingerprint: print, dir, inputs }, null, 2)}\n`);
    renameSync(manifestTemp, manifestFile);
    pruneOldBuilds(dir);
    return path.join(target, 'main.js');
  }
}

/** The module that reads templates/ beside the sources; in the build it holds their text instead. */
const projectTemplatesModule = path.join(root, 'src/render/project-templates.ts');

/**
 * Replaces src/render/project-templates.ts by a module that imports every templates/*.mjml as text
 * (the `.mjml` loader), with the same export: the built CLI finds its templates wherever it runs.
 */
const inlineProjectTemplates = {
  name: 'inline-project-templates',
  setup(build) {
    build.onLoad({ filter: /[\\/]project-templates\.ts$/ }, (args) => {
      if (path.resolve(args.path) !== projectTemplatesModule) return undefined;
      const names = readdirSync(path.join(root, 'templates'))
        .filter((name) => name.endsWith('.mjml'))
        .sort();
      const contents = [
        ...names.map((name, index) => `import text${index} from '../../templates/${name}';`),
        `const texts = new Map([${names.map((name, index) => `[${JSON.stringify(name)}, text${index}]`).join(', ')}]);`,
        'export async function readProjectTemplate(name) {',
        '  const text = texts.get(name);',
        "  if (text === undefined) throw new Error('templates/' + name + ': not in this build');",
        '  return text;',
        '}',
      ].join('\n');
      return { contents, loader: 'js', resolveDir: path.dirname(projectTemplatesModule) };
    });
  },
};

/** Every dependency of package.json but those bundled into dist/ (see the build options). */
function externalPackages() {
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const names = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies });
  return names.filter((name) => !bundled.has(name)).flatMap((name) => [name, `${name}/*`]);
}

function fileTime(file) {
  try {
    return statSync(path.join(root, file)).mtimeMs;
  } catch {
    return 0;
  }
}

/** Removes builds older than an hour (a process started from one an hour ago has loaded what it needs). */
function pruneOldBuilds(keep) {
  const hourAgo = Date.now() - 3_600_000;
  for (const name of readdirSync(distDir)) {
    if (name === keep || name === 'build.json' || name.startsWith('build.json.')) continue;
    const folder = path.join(distDir, name);
    try {
      if (statSync(folder).mtimeMs < hourAgo) rmSync(folder, { recursive: true, force: true });
    } catch {
      // Already removed by another process.
    }
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const entry = await buildCli();
  process.stdout.write(
    `recap: built ${path.relative(root, entry)} in ${Math.round(performance.now() - started)} ms\n`,
  );
}
