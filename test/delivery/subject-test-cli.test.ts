import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/connect.ts';
import { upsertStories } from '../../src/stories/story.repository.ts';
import { generateWeek } from '../selection/week-generator.ts';
import { runCli, tempWorkdir } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { readOutbox } from '../support/outbox.ts';

// A subject test through the built CLI: a variant written with `recap issue subject --variant B`, a
// local-time send refused, `recap send` exiting 0 during the test phase with when the rest goes out,
// `recap send --wait` deciding and sending the rest, `recap stats --json` with the test.
let server: TestDatabase | undefined;
let env: Record<string, string | undefined>;
let dir = '';
const WEEK = '2026-W48';
const READERS = 40;
const week = generateWeek({ seed: 11, events: 25 });
const SUBJECT_B = 'Three labs, two lawsuits, one benchmark';

beforeAll(async () => {
  dir = tempWorkdir('recap-subject-test-');
  const candidate = await createTestDatabase();
  env = {
    RECAP_DATA_DIR: path.join(dir, 'data'),
    RECAP_OUTBOX_DIR: path.join(dir, 'outbox'),
    RECAP_TZ: 'UTC',
    PUBLIC_URL: 'https://recap.example.com',
    SUBJECT_TEST_SHARE: '50%',
    // 9 seconds: the test share is out well before, and --wait sees the decision.
    SUBJECT_TEST_HOURS: '0.0025',
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
}, 300_000);
afterAll(() => server?.close());

describe('a subject test from the command line', () => {
  it('sends the test share, exits 0 saying when the rest goes, and --wait sends the winner to the rest once', async () => {
    const variant = await runCli(['issue', 'subject', '--week', WEEK, '--variant', 'B', SUBJECT_B], env);
    expect(variant.stderr).toBe('');
    expect(variant.stdout).toBe(
      `subject variant B of ${WEEK}: ${SUBJECT_B}\nsubject test of ${WEEK}: variants A, B\n`,
    );
    expect((await runCli(['issue', 'build', '--week', WEEK], env)).code).toBe(0);
    const csv = path.join(dir, 'readers.csv');
    const rows = Array.from({ length: READERS }, (_, i) => `reader${i}@example.com,Researchers`);
    writeFileSync(csv, `email,segments\n${rows.join('\n')}\n`);
    expect((await runCli(['import', 'subscribers', csv], env)).code).toBe(0);

    const local = await runCli(['send', '--week', WEEK], { ...env, RECAP_DELIVERY: 'local' });
    expect(local.code).toBe(1);
    expect(local.stderr).toBe(
      `recap: issue ${WEEK} has subject variants: a subject test cannot run with RECAP_DELIVERY=local in this version\n`,
    );

    const send = await runCli(['send', '--week', WEEK], env);
    expect(send.stderr).not.toContain('recap:');
    expect(send.code).toBe(0);
    expect(send.stdout).toMatch(
      /subject test under way: \d+ deliveries wait for the winner, decided at 20\d\d-\d\d-\d\dT[\d:.]+Z; the rest goes out then/,
    );
    const tested = (await readOutbox(env.RECAP_OUTBOX_DIR as string)).filter((m) =>
      m.file.startsWith(`recap.${WEEK}.`),
    );
    expect(tested.length).toBeGreaterThan(0);
    expect(tested.length).toBeLessThan(READERS);
    const waiting = await runCli(['send', 'status', '--week', WEEK], env);
    expect(waiting.stdout).toMatch(
      / {2}subject test: decided at 20\d\d-\d\d-\d\d \d\d:\d\d UTC; \d+ readers held for the winner/,
    );
    expect(waiting.stdout).toMatch(/^ {4}B {2}\d+ delivered, 0 human clickers/m);

    const rest = await runCli(['send', '--week', WEEK, '--wait'], env);
    expect(rest.code, rest.stderr).toBe(0);
    const all = (await readOutbox(env.RECAP_OUTBOX_DIR as string)).filter((m) =>
      m.file.startsWith(`recap.${WEEK}.`),
    );
    const to = all.map((m) => String(m.parsed.to && 'text' in m.parsed.to ? m.parsed.to.text : ''));
    expect(new Set(to).size).toBe(READERS);
    expect(all).toHaveLength(READERS);

    const stats = await runCli(['stats', '--week', WEEK, '--json'], env);
    expect(stats.code).toBe(0);
    const { subjectTest } = JSON.parse(stats.stdout);
    expect(subjectTest.share).toBe(0.5);
    expect(subjectTest.variants.map((v: { variant: string }) => v.variant)).toEqual(['A', 'B']);
    expect(subjectTest.variants[1].subject).toBe(SUBJECT_B);
    expect(subjectTest.winner).toBe('A');
    expect(subjectTest.reason).toMatch(/^too little data: A had 0, B had 0 human clicks/);
    expect(subjectTest.comparisons).toBe(1);
    // Everyone held got the winner, A: only the test's B group carries B's subject.
    const withB = all.filter((m) => m.parsed.subject === SUBJECT_B).length;
    expect(withB).toBe(subjectTest.variants[1].readers);
    const status = JSON.parse((await runCli(['send', 'status', '--week', WEEK, '--json'], env)).stdout);
    expect(status.subjectTest).toMatchObject({
      winner: 'A',
      reason: expect.stringMatching(/^too little data/),
    });
    expect(status.subjectTest.variants).toHaveLength(2);
    const text = await runCli(['stats', '--week', WEEK], env);
    expect(text.stdout).toContain('Subject test (50.0 % of the tracked readers;');
    expect(text.stdout).toMatch(/ {2}winner: A \(.+\): too little data/);
  }, 120_000);
});
