import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/connect.ts';
import type { IssueReport } from '../../src/issues/issue-report.ts';
import { upsertStories } from '../../src/stories/story.repository.ts';
import { generateWeek } from '../selection/week-generator.ts';
import { runCli, tempWorkdir } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

// The CLI runs as a child process: against its own database on the server when one is configured,
// else against an embedded database in a temporary folder, seeded here and closed before the child opens it.
let server: TestDatabase | undefined;
let env: Record<string, string | undefined>;
const week = generateWeek({ seed: 7, events: 25 });

beforeAll(async () => {
  const dir = tempWorkdir();
  const candidate = await createTestDatabase();
  env = {
    RECAP_DATA_DIR: path.join(dir, 'data'),
    RECAP_OUTBOX_DIR: path.join(dir, 'outbox'),
    RECAP_TZ: 'UTC',
  };
  if (candidate.url) {
    server = candidate;
    env.DATABASE_URL = candidate.url;
    await candidate.db.transaction().execute((trx) => upsertStories(trx, week.stories));
  } else {
    await candidate.close();
    const handle = await connectDatabase({ databaseUrl: undefined, dataDir: env.RECAP_DATA_DIR as string });
    await handle.db.transaction().execute((trx) => upsertStories(trx, week.stories));
    await handle.close();
  }
});
afterAll(() => server?.close());

describe('recap issue (child process)', () => {
  it('builds, prints the JSON explanation, takes an editor pin and shows it', async () => {
    const build = await runCli(['issue', 'build', '--week', '2026-W48', '--json'], env);
    // The week goes to standard error with --json; standard output is the JSON alone.
    expect(build.stderr).toBe('week 2026-W48 (23–29 Nov 2026): given with --week\n');
    expect(build.code).toBe(0);
    const report = JSON.parse(build.stdout) as IssueReport;
    expect(report.week).toBe('2026-W48');
    const researchers = report.segments.find((s) => s.segment === 'Researchers');
    expect(researchers?.skipped).toBe(false);
    const first = researchers?.stories[0];
    expect(first).toMatchObject({ id: expect.any(String), title: expect.any(String), fallback: false });
    expect(first?.score).toBeGreaterThan(0);
    expect(first?.reasons.length).toBeGreaterThan(0);

    const chosen = new Set(researchers?.stories.map((s) => s.id));
    const extra = week.stories.find(
      (s) => s.audiences.includes('Researchers') && !chosen.has(s.id),
    ) as (typeof week.stories)[number];
    const pin = await runCli(
      ['issue', 'pin', '--week', '2026-W48', '--segment', 'researchers', '--position', '2', extra.id],
      env,
    );
    expect(pin.stderr).toBe('');
    expect(pin.stdout).toBe(`pinned ${extra.id} at position 2 in Researchers for 2026-W48; issue rebuilt\n`);

    const show = await runCli(['issue', 'show', '--week', '2026-W48'], env);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('Issue 2026-W48 (draft)');
    expect(show.stdout).toContain('pinned by editor at position 2');
    expect(show.stdout).toContain(`pin ${extra.id} at position 2 (Researchers)`);
  });

  it('refuses bad input with one line and a non-zero exit', async () => {
    const badWeek = await runCli(['issue', 'build', '--week', '2026-48'], env);
    expect(badWeek.code).toBe(1);
    expect(badWeek.stderr).toBe('recap: --week: expected an ISO week such as 2026-W48 (got "2026-48")\n');
    const badSegment = await runCli(
      ['issue', 'drop', '--week', '2026-W48', '--segment', 'astronauts', 'e00001-0'],
      env,
    );
    expect(badSegment.code).toBe(1);
    expect(badSegment.stderr).toMatch(
      /^recap: --segment: unknown segment "astronauts" \(known: .*researchers.*\)\n$/,
    );
  });
});
