/**
 * Runs the benchmarks, each in its own process with the flags it needs, one after another; each prints
 * its own markdown table. `npm run bench` runs them all; `npm run bench -- send render` only those named.
 * Extra arguments after `--args` go to every benchmark run.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Benchmark {
  name: string;
  file: string;
  nodeFlags: string[];
  production: boolean;
  what: string;
}

const benchmarks: Benchmark[] = [
  {
    name: 'selection',
    file: 'bench/selection.ts',
    nodeFlags: [],
    production: true,
    what: 'selection over 10,000 stories, 10 segments',
  },
  {
    name: 'render',
    file: 'bench/render.ts',
    nodeFlags: [],
    production: true,
    what: 'full render vs per-recipient personalisation',
  },
  {
    name: 'render-memory',
    file: 'bench/render-memory.ts',
    nodeFlags: ['--expose-gc'],
    production: true,
    what: 'heap after 5,000 renders',
  },
  {
    name: 'send',
    file: 'bench/send.ts',
    nodeFlags: [],
    production: true,
    what: 'SMTP ceiling vs our pipeline vs naive (needs PostgreSQL)',
  },
  {
    name: 'http',
    file: 'bench/http.ts',
    nodeFlags: [],
    production: true,
    what: 'pixel and click endpoints vs bare node:http (needs PostgreSQL)',
  },
  {
    name: 'cli',
    file: 'bench/cli.ts',
    nodeFlags: [],
    production: true,
    what: 'CLI start-up: recap --help and recap issue list, PostgreSQL and embedded (needs PostgreSQL)',
  },
  {
    name: 'dashboard',
    file: 'bench/dashboard-stats.ts',
    nodeFlags: [],
    production: true,
    what: "weeks list, weekly series and one issue's stats over 52 issues × 200,000 deliveries (needs PostgreSQL)",
  },
  {
    name: 'import',
    file: 'bench/import.ts',
    nodeFlags: [],
    production: true,
    what: 'peak RSS and records/s of a 50 MB NDJSON story import, from a file and through the API, and of a 24 MiB JSON array element (needs PostgreSQL)',
  },
  {
    name: 'slow-ingest',
    file: 'bench/slow-ingest.ts',
    nodeFlags: [],
    production: true,
    what: 'GET /subscribe and /archive while 30 ingest uploads send one byte a second, and a 62 MB push (built CLI; needs PostgreSQL)',
  },
  {
    name: 'readers',
    file: 'bench/reader-search.ts',
    nodeFlags: [],
    production: true,
    what: "the editor's reader search, filters, counts and keyset pages over 1,000,000 subscribers (needs PostgreSQL)",
  },
  {
    name: 'personal-order',
    file: 'bench/personal-order-sim.ts',
    nodeFlags: [],
    production: true,
    what: 'simulated readers with hidden tastes over 12 weeks: click rate of personal order against the holdout (seeded)',
  },
  {
    name: 'personal-order-freeze',
    file: 'bench/personal-order-freeze.ts',
    nodeFlags: [],
    production: true,
    what: 'the audience freeze with personal order: 100,000 readers, 10 % with a history (needs PostgreSQL)',
  },
];

const argv = process.argv.slice(2);
const split = argv.indexOf('--args');
const names = split === -1 ? argv : argv.slice(0, split);
const extra = split === -1 ? [] : argv.slice(split + 1);
const unknown = names.filter((name) => !benchmarks.some((b) => b.name === name));
if (unknown.length > 0) {
  console.error(
    `unknown benchmark ${unknown.join(', ')}; known: ${benchmarks.map((b) => b.name).join(', ')}`,
  );
  process.exit(2);
}
const chosen = names.length > 0 ? benchmarks.filter((b) => names.includes(b.name)) : benchmarks;
let failed = 0;
for (const bench of chosen) {
  console.log(`\n## ${bench.name}: ${bench.what}\n`);
  const result = spawnSync(process.execPath, [...bench.nodeFlags, '--import', 'tsx', bench.file, ...extra], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...(bench.production ? { NODE_ENV: 'production' } : {}) },
  });
  if (result.status !== 0) {
    failed += 1;
    console.error(`${bench.name} exited with ${result.status ?? result.signal}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
