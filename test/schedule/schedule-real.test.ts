import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveIssue } from '../../src/issues/issue-lifecycle.ts';
import { realScheduleActions } from '../../src/schedule/schedule-actions.ts';
import { runScheduleCycle } from '../../src/schedule/schedule-cycle.ts';
import { cronPattern } from '../../src/schedule/schedule-slot.ts';
import { upsertStories } from '../../src/stories/story.repository.ts';
import { seedWeek, testApp, weekStories } from '../editor/editor-seed.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';

const hour = 3_600_000;
let t: TestDatabase;
let sink: SmtpSink;

beforeAll(async () => {
  t = await createTestDatabase();
  sink = await startSmtpSink();
  await seedWeek(t);
});
afterAll(async () => {
  await sink?.close();
  await t?.close();
});

describe('the schedule with the real build and send', () => {
  it('builds the week just ended, waits for approval, then sends it once to every reader', async () => {
    const app = testApp(t, { SMTP_URL: sink.url, REQUIRE_APPROVAL: 'true' });
    const clock = { now: new Date('2026-11-23T08:00:00Z') };
    const lines: string[] = [];
    const cycle = () =>
      runScheduleCycle({
        db: t.db,
        scheduleName: 'real',
        pattern: cronPattern('0 8 * * 1', 'UTC'),
        owner: 'test-owner',
        now: () => clock.now,
        requireApproval: app.config.requireApproval,
        actions: realScheduleActions(app, () => clock.now),
        log: (line) => lines.push(line),
        catchUpWindowMs: 24 * hour,
        lookbackMs: 8 * 24 * hour,
        leaseMs: 10 * 60_000,
      });

    expect(await cycle()).toMatchObject({ week: '2026-W47', outcome: 'waiting-approval' });
    const issue = await t.db
      .selectFrom('issues')
      .select(['status', 'built_at'])
      .where('week', '=', '2026-W47')
      .executeTakeFirstOrThrow();
    expect(issue.status).toBe('draft');
    expect(sink.messages).toHaveLength(0);

    await approveIssue(t.db, '2026-W47', { now: clock.now });
    clock.now = new Date('2026-11-23T08:05:00Z');
    const sent = await cycle();
    expect(sent).toMatchObject({ outcome: 'sent', detail: expect.stringMatching(/4 sent, 0 failed/) });
    expect(sink.messages.map((m) => m.envelopeTo[0]).sort()).toEqual([
      'reader0@example.com',
      'reader1@example.com',
      'reader2@example.com',
      'reader3@example.com',
    ]);

    clock.now = new Date('2026-11-23T08:10:00Z');
    expect((await cycle()).outcome).toBe('not-ours');
    expect(sink.messages).toHaveLength(4);
    expect(lines.join('\n')).toMatch(
      /not built yet: built it[\s\S]*waiting for an editor[\s\S]*sending: the issue is approved[\s\S]*sent: 4 sent/,
    );
    await app.close();
  });

  it('lets one of two coordinators run a slot: two processes on a server, two in-process runs on PGlite', async () => {
    // The next week's stories, so the slot of 30 November has something to send.
    const next = weekStories().map((story) => ({
      ...story,
      id: `w48-${story.id}`,
      url: `${story.url}/w48`,
      canonicalUrl: `${story.canonicalUrl}/w48`,
      // Different events from last week's, or selection would treat them as already covered.
      title: [
        'Robotics lab ships household arm',
        'Court rules on training data',
        'Speech model runs on phones',
        'Senate hearing on AI safety',
        'Protein folding record broken',
        'Datacenter power deal signed',
      ][Number(story.id.slice(-1)) - 1] as string,
      tldr: {
        whatChanged: 'A different event.',
        whyItMatters: 'It matters to builders.',
        whatToDoNext: 'Try it.',
      },
      publishedAt: new Date((story.publishedAt as Date).getTime() + 7 * 24 * hour),
    }));
    await t.db.transaction().execute((trx) => upsertStories(trx, next));
    sink.messages.length = 0;
    const slot = new Date('2026-11-30T08:00:00Z');
    const results = t.url ? await twoProcesses(t.url, '2026-11-30T08:00:20Z') : await twoInProcess(slot);
    expect(results.sort()).toEqual(['not-ours', 'sent']);
    const fires = await t.db.selectFrom('schedule_fires').selectAll().where('slot', '=', slot).execute();
    expect(fires.map((f) => [f.week, f.outcome])).toEqual([['2026-W48', 'sent']]);
    // Every reader exactly once.
    expect(sink.messages.map((m) => m.envelopeTo[0]).sort()).toEqual([
      'reader0@example.com',
      'reader1@example.com',
      'reader2@example.com',
      'reader3@example.com',
    ]);
  });
});

/** Two `recap schedule --once` processes started together against the same database. */
async function twoProcesses(url: string, now: string): Promise<string[]> {
  const env = {
    ...process.env,
    NODE_ENV: 'test' as const,
    DATABASE_URL: url,
    SMTP_URL: sink.url,
    RECAP_SECRET: randomBytes(24).toString('base64url'),
    RECAP_TZ: 'UTC',
    RECAP_CRON: '0 8 * * 1',
    REQUIRE_APPROVAL: 'false',
    RECAP_DATA_DIR: `/tmp/recap-schedule-test-${randomBytes(4).toString('hex')}`,
  };
  const run = () =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['bin/recap.js', 'schedule', '--once', '--now', now], { env });
      let out = '';
      child.stdout.on('data', (chunk) => {
        out += chunk;
      });
      child.stderr.on('data', (chunk) => {
        out += chunk;
      });
      child.on('error', reject);
      child.on('close', (code) => {
        if (code !== 0) return reject(new Error(`recap schedule --once exited ${code}:\n${out}`));
        resolve(/sent: /.test(out) ? 'sent' : /handled by|claimed by another/.test(out) ? 'not-ours' : out);
      });
    });
  return Promise.all([run(), run()]);
}

/** Two coordinators started together in this process on the embedded database (it has one connection). */
async function twoInProcess(slot: Date): Promise<string[]> {
  const app = testApp(t, { SMTP_URL: sink.url, REQUIRE_APPROVAL: 'false' });
  const now = () => new Date(slot.getTime() + 20_000);
  const cycle = (owner: string) =>
    runScheduleCycle({
      db: t.db,
      scheduleName: 'weekly-recap',
      pattern: cronPattern('0 8 * * 1', 'UTC'),
      owner,
      now,
      requireApproval: false,
      actions: realScheduleActions(app, now),
      log: () => {},
      catchUpWindowMs: 24 * hour,
      lookbackMs: 8 * 24 * hour,
      leaseMs: 10 * 60_000,
    }).then((r) => (r.outcome === 'failed' ? r.detail : r.outcome));
  return Promise.all([cycle('a'), cycle('b')]).finally(() => app.close());
}
