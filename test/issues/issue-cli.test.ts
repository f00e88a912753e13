import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/connect.ts';
import type { IssueReport } from '../../src/issues/issue-report.ts';
import { upsertStories } from '../../src/stories/story.repository.ts';
import { makeStory } from '../selection/story-factory.ts';
import { generateWeek } from '../selection/week-generator.ts';
import { runCli, tempWorkdir } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

// The CLI runs as a child process: against its own database on the server when one is configured,
// else against an embedded database in a temporary folder, seeded here and closed before the child opens it.
let server: TestDatabase | undefined;
let env: Record<string, string | undefined>;
const week = generateWeek({ seed: 7, events: 25 });
// The only story of 2026-W30, for Researchers: the other segments of that week have none.
const solo = makeStory({ id: 'solo', publishedAt: new Date('2026-07-22T10:00:00Z') });

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
    await candidate.db.transaction().execute((trx) => upsertStories(trx, [...week.stories, solo]));
  } else {
    await candidate.close();
    const handle = await connectDatabase({ databaseUrl: undefined, dataDir: env.RECAP_DATA_DIR as string });
    await handle.db.transaction().execute((trx) => upsertStories(trx, [...week.stories, solo]));
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
    expect(show.stdout).toMatch(
      new RegExp(
        `pin ${extra.id} at position 2 \\(Researchers; cli, \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC\\)`,
      ),
    );
  });

  it('names empty and short segments, refuses a week without stories, and approves empty segments only when allowed', async () => {
    const nothing = await runCli(['issue', 'build', '--week', '2026-W10'], env);
    expect(nothing.code).toBe(1);
    expect(nothing.stdout).toContain('week 2026-W10 (2–8 Mar 2026): given with --week');
    expect(nothing.stderr).toContain('empty segment: Researchers');
    expect(nothing.stderr).toMatch(
      /recap: issue 2026-W10 has no stories in any segment: import stories for 2026-W10 .*\n$/,
    );
    const approveNothing = await runCli(['issue', 'approve', '--week', '2026-W10', '--allow-empty'], env);
    expect(approveNothing.code).toBe(1);
    expect(approveNothing.stderr).toMatch(
      /^recap: issue 2026-W10 has no stories in any segment: nothing to approve .*\n$/,
    );

    const built = await runCli(['issue', 'build', '--week', '2026-W30'], env);
    expect(built.code).toBe(0);
    expect(built.stderr).toContain(
      'short segment: Researchers has 1 story, under MIN_STORIES_PER_SEGMENT (3)',
    );
    const refused = await runCli(['issue', 'approve', '--week', '2026-W30'], env);
    expect(refused.code).toBe(1);
    // Only Researchers has the week's one story; the fallback finds nothing else to give the others.
    expect(refused.stderr).toMatch(
      /^recap: issue 2026-W30 not approved: ("[^"]+", ){3}"[^"]+" have no stories; import stories and rebuild, or approve with empty segments allowed \(recap issue approve --allow-empty\)\n$/,
    );
    expect(refused.stderr).toContain('"Investors"');
    expect(refused.stderr).not.toContain('"Researchers"');
    const allowed = await runCli(
      ['issue', 'approve', '--week', '2026-W30', '--allow-empty', '--reason', 'quiet summer week'],
      env,
    );
    expect(allowed.stderr).toBe('');
    expect(allowed.stdout).toContain('issue 2026-W30 is approved: 1 stories in 1 segments');
    const unapproved = await runCli(['issue', 'unapprove', '--week', '2026-W30'], env);
    expect(unapproved.code).toBe(0);
    expect(unapproved.stdout).toContain('issue 2026-W30 is a draft again');
    const again = await runCli(['issue', 'unapprove', '--week', '2026-W30'], env);
    expect(again.stderr).toBe('recap: issue 2026-W30 is already a draft\n');
  }, 240_000);

  it('build, approve and send without --week name one week, the one the schedule acts on', async () => {
    // The embedded database has one user at a time: the commands run one after the other.
    const badCron = await runCli(['issue', 'show'], { ...env, RECAP_CRON: 'not a cron' });
    expect(badCron.stderr).toBe(
      'recap: RECAP_CRON: "not a cron" is not a valid cron expression (e.g. "0 8 * * 1"); or give --week\n',
    );
    const build = await runCli(['issue', 'build'], env);
    const line =
      /^week (\d{4}-W\d{2}) \([^)]*\): (the issue the schedule's next fire sends|sent by the schedule's latest fire), /;
    const built = line.exec(build.stdout);
    expect(built, build.stdout + build.stderr).not.toBeNull();
    const approve = await runCli(['issue', 'approve'], env);
    expect(line.exec(approve.stdout)?.[1]).toBe(built?.[1]);
    const send = await runCli(['send'], env);
    expect(line.exec(send.stdout)?.[1]).toBe(built?.[1]);
  }, 240_000);

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
