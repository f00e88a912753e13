import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const binaries = process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';

/** True when this machine can start a PostgreSQL cluster of a test's own (the server's binaries exist). */
export async function canRunOwnCluster(): Promise<boolean> {
  try {
    await run(path.join(binaries, 'pg_ctl'), ['--version']);
    if (process.getuid?.() === 0) await run('id', ['postgres']);
    return true;
  } catch {
    return false;
  }
}

export interface OwnCluster {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  /** Stops the server at once, like a crash or a pulled cable: `pg_ctl stop -m immediate`. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  destroy(): Promise<void>;
}

/**
 * A PostgreSQL cluster of the test's own, in a temporary folder, on a free port, which the test may stop
 * and start (the shared test server must never be stopped). initdb refuses root: run as root (CI), the
 * cluster belongs to the `postgres` user.
 */
export async function startOwnCluster(): Promise<OwnCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'recap-pg-'));
  chmodSync(dir, 0o777);
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'server.log');
  const port = await freePort();
  const asOwner = async (command: string, args: string[]) => {
    const file = path.join(binaries, command);
    if (process.getuid?.() === 0) await run('runuser', ['-u', 'postgres', '--', file, ...args]);
    else await run(file, args);
  };
  await asOwner('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`;
  const start = async () => {
    await asOwner('pg_ctl', ['start', '-w', '-D', data, '-l', log, '-o', options]);
  };
  const stop = async () => {
    await asOwner('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w']);
  };
  await start();
  let running = true;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      await stop();
      running = false;
    },
    async start() {
      await start();
      running = true;
    },
    async destroy() {
      if (running) await stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Creates a database on the cluster and returns its URL. */
export async function createClusterDatabase(cluster: OwnCluster, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  return cluster.url.replace(/\/postgres$/, `/${name}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
