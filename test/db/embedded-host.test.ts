import net from 'node:net';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { hostEmbedded } from '../../src/db/embedded-host.ts';
import { tempWorkdir } from '../support/cli.ts';

// The host in this process, with a short idle-in-transaction limit, and real `pg` clients on its socket.
const socketPath = path.join(tempWorkdir('recap-host-'), 'recap.sock');
const pglite = PGlite.create('memory://');
const server = net.createServer();
const clients: pg.Client[] = [];
afterAll(async () => {
  await Promise.all(clients.map((client) => client.end().catch(() => {})));
  await new Promise((resolve) => server.close(resolve));
  await (await pglite).close();
});

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({
    user: 'postgres',
    database: 'postgres',
    stream: () => {
      const socket = new net.Socket();
      const connectTo = socket.connect.bind(socket);
      socket.connect = (() => connectTo(socketPath)) as typeof socket.connect;
      return socket;
    },
  } as pg.ClientConfig);
  client.on('error', () => {});
  clients.push(client);
  await client.connect();
  return client;
}

describe('the embedded host', () => {
  it('ends a connection left idle inside a transaction, rolls it back, and lets the next one in', async () => {
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    hostEmbedded(server, { mode: 'serve', pglite, idleInTransactionMs: 300 });
    const idle = await connect();
    const next = await connect();
    await idle.query('CREATE TABLE t (x int)');
    await idle.query('BEGIN');
    await idle.query('INSERT INTO t VALUES (1)');
    // `next` waits for the turn `idle` keeps, until the host ends `idle`.
    const { rows } = await next.query('SELECT count(*)::int AS n FROM t');
    expect(rows).toEqual([{ n: 0 }]);
    await expect(idle.query('COMMIT')).rejects.toThrow();
    expect((await next.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 0 }]);
  }, 120_000);
});
