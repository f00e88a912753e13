// A stand-in `recap` process for the embedded database's sharing tests: opens the folder given as
// argv[2] (serving it when argv[3] is "share"), prints "ready", then runs the statements read from stdin,
// one per line (SQL text, or JSON {"sql", "params"} for a statement with parameters), one at a time, and
// prints each result as one JSON line, until stdin ends or SIGTERM.
import { createInterface } from 'node:readline';
import { CompiledQuery } from 'kysely';
import { connectDatabase } from '../../src/db/connect.ts';

const dataDir = process.argv[2] as string;
const handle = await connectDatabase({
  databaseUrl: undefined,
  dataDir,
  shareEmbedded: process.argv[3] === 'share',
  command: 'test holder',
});
process.stdout.write('ready\n');
const stop = async () => {
  await handle.close();
  process.exit(0);
};
process.once('SIGTERM', stop);
for await (const line of createInterface({ input: process.stdin })) {
  try {
    const statement = line.startsWith('{')
      ? (JSON.parse(line) as { sql: string; params: unknown[] })
      : undefined;
    const result = await handle.db.executeQuery(
      statement ? CompiledQuery.raw(statement.sql, statement.params) : CompiledQuery.raw(line),
    );
    process.stdout.write(`${JSON.stringify({ rows: result.rows })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ error: (error as Error).message })}\n`);
  }
}
await stop();
