/**
 * CLI start-up: wall time of `recap --help` and `recap issue list` against PostgreSQL (best of 3), and
 * `recap issue list` on the embedded database with its peak RSS. Each run is a fresh `node bin/recap.js`
 * process, as an operator starts it; a first run of each (which may rebuild dist/ and migrates the
 * database) is not counted. Prints a markdown table beside the goals.
 * Needs PostgreSQL at BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); creates and
 * drops its own database there. Peak RSS comes from GNU time (/usr/bin/time); without it, "n/a".
 * Run: npm run bench -- cli
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const baseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const runs = 3;
const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

interface Run {
  seconds: number;
  rssMb: number | undefined;
}

function runCli(args: string[], env: Record<string, string | undefined>): Run {
  const command = gnuTime ?? process.execPath;
  const commandArgs = gnuTime
    ? ['-f', '@@rss %M', process.execPath, 'bin/recap.js', ...args]
    : ['bin/recap.js', ...args];
  const started = performance.now();
  const result = spawnSync(command, commandArgs, {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', ...env },
    encoding: 'utf8',
  });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`recap ${args.join(' ')} failed: ${result.stderr}`);
  const rss = /@@rss (\d+)/.exec(result.stderr ?? '')?.[1];
  return { seconds, rssMb: rss ? Number(rss) / 1024 : undefined };
}

function best(args: string[], env: Record<string, string | undefined>): Run {
  runCli(args, env); // warm-up: a stale dist/ is rebuilt, the database migrated, the page cache filled
  const measured = Array.from({ length: runs }, () => runCli(args, env));
  measured.sort((a, b) => a.seconds - b.seconds);
  const fastest = measured[0] as Run;
  const rss = measured.map((run) => run.rssMb).filter((mb): mb is number => mb !== undefined);
  return { seconds: fastest.seconds, rssMb: rss.length > 0 ? Math.max(...rss) : undefined };
}

const secret = { RECAP_SECRET: 'bench-secret-0123456789-abcdefghijklmnop' };
const dbName = `recap_bench_cli_${process.pid}`;
const admin = new pg.Client({ connectionString: baseUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const url = new URL(baseUrl);
url.pathname = `/${dbName}`;
const workdir = mkdtempSync(path.join(tmpdir(), 'recap-bench-cli-'));
try {
  const server = { ...secret, DATABASE_URL: url.toString(), RECAP_DATA_DIR: path.join(workdir, 'server') };
  const embedded = { ...secret, RECAP_DATA_DIR: path.join(workdir, 'embedded') };
  const load = loadavg()
    .map((n) => n.toFixed(1))
    .join(', ');
  const help = best(['--help'], server);
  const list = best(['issue', 'list'], server);
  const listEmbedded = best(['issue', 'list'], embedded);
  const mb = (run: Run) => (run.rssMb === undefined ? 'n/a' : `${Math.round(run.rssMb)} MB`);
  const verdict = (ok: boolean) => (ok ? 'met' : 'not met');
  console.log(`load average before: ${load}; ${runs} runs each, fastest shown, peak RSS of the runs\n`);
  console.log('| command | database | time | peak RSS | goal | |');
  console.log('|---|---|---:|---:|---|---|');
  console.log(
    `| \`recap --help\` | PostgreSQL | ${help.seconds.toFixed(2)} s | ${mb(help)} | ≤ 0.4 s | ${verdict(help.seconds <= 0.4)} |`,
  );
  console.log(
    `| \`recap issue list\` | PostgreSQL | ${list.seconds.toFixed(2)} s | ${mb(list)} | ≤ 1.0 s | ${verdict(list.seconds <= 1)} |`,
  );
  console.log(
    `| \`recap issue list\` | embedded PGlite | ${listEmbedded.seconds.toFixed(2)} s | ${mb(listEmbedded)} | ≤ 300 MB | ${listEmbedded.rssMb === undefined ? 'n/a' : verdict(listEmbedded.rssMb <= 300)} |`,
  );
} finally {
  rmSync(workdir, { recursive: true, force: true });
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}
