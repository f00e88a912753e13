import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runCli, tempWorkdir } from '../support/cli.ts';

/** A local port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('a command while PostgreSQL does not answer (built CLI)', () => {
  it('says the database does not answer, in one line with the cause and no password, and exits 1', async () => {
    const port = await closedPort();
    const result = await runCli(['send', 'status'], {
      DATABASE_URL: `postgres://recap:s3cret-password@127.0.0.1:${port}/recap`,
      RECAP_DATA_DIR: tempWorkdir(),
    });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `recap: cannot open DATABASE_URL postgres://***@127.0.0.1:${port}/recap: the database does not answer (connect ECONNREFUSED 127.0.0.1:${port}); start PostgreSQL or check the address`,
    );
    // Not a migration that failed: none was tried.
    expect(result.stderr).not.toMatch(/migration/);
    expect(result.stderr).not.toContain('s3cret-password');
  }, 60_000);
});
