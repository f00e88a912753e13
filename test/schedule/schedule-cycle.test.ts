import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/database.ts';
import { listFires } from '../../src/schedule/run-coordinator.ts';
import { runScheduleCycle, type ScheduleCycleOptions } from '../../src/schedule/schedule-cycle.ts';
import { cronPattern } from '../../src/schedule/schedule-slot.ts';
import { createTestDatabase, secondConnection, type TestDatabase } from '../support/database.ts';

const hour = 3_600_000;
let t: TestDatabase;
let other: Db;

beforeAll(async () => {
  t = await createTestDatabase();
  // A second, independent pool on the same database when a server is configured; PGlite has one connection.
  other = t.url ? secondConnection(t.url) : t.db;
});
afterAll(async () => {
  if (other !== t.db) await other.destroy();
  await t.close();
});

/** Real issue rows: building inserts a draft, sending marks it sent. Counts what ran. */
function issueActions(db: Db, runs: { built: string[]; sent: string[] }) {
  return {
    async buildIssue(week: string) {
      runs.built.push(week);
      await db
        .insertInto('issues')
        .values({ week, status: 'draft', built_at: new Date() })
        .onConflict((oc) => oc.column('week').doNothing())
        .execute();
      return 'built';
    },
    async sendIssue(week: string) {
      runs.sent.push(week);
      await db.updateTable('issues').set({ status: 'sent' }).where('week', '=', week).execute();
      return '3 sent';
    },
  };
}

function cycle(scheduleName: string, clock: { now: Date }, overrides: Partial<ScheduleCycleOptions> = {}) {
  const runs = { built: [] as string[], sent: [] as string[] };
  const lines: string[] = [];
  const db = overrides.db ?? t.db;
  const options: ScheduleCycleOptions = {
    db,
    scheduleName,
    pattern: cronPattern('0 8 * * 1', 'UTC'),
    owner: `test-${Math.random().toString(36).slice(2)}`,
    now: () => clock.now,
    requireApproval: false,
    actions: issueActions(db, runs),
    log: (line) => lines.push(line),
    catchUpWindowMs: 12 * hour,
    lookbackMs: 8 * 24 * hour,
    leaseMs: 10 * 60_000,
    ...overrides,
  };
  return { run: () => runScheduleCycle(options), runs, lines };
}

describe('the weekly schedule', () => {
  it('fires at the slot: builds the week just ended and sends it, once', async () => {
    const clock = { now: new Date('2026-11-30T08:00:00Z') }; // Monday 08:00 UTC
    const c = cycle('fire', clock);
    const first = await c.run();
    expect(first).toMatchObject({ week: '2026-W48', outcome: 'sent' });
    expect(first.slot?.toISOString()).toBe('2026-11-30T08:00:00.000Z');
    expect(c.runs).toEqual({ built: ['2026-W48'], sent: ['2026-W48'] });
    expect(c.lines.join('\n')).toMatch(/on time.*\n.*not built yet.*\n.*sending.*REQUIRE_APPROVAL is off/);

    clock.now = new Date('2026-11-30T08:05:00Z'); // the next check
    expect((await c.run()).outcome).toBe('not-ours');
    expect(c.runs.sent).toEqual(['2026-W48']);
  });

  it('catches up a missed fire once, and says so', async () => {
    const clock = { now: new Date('2026-12-07T10:30:00Z') }; // the machine was down at 08:00
    const a = cycle('missed', clock);
    expect(await a.run()).toMatchObject({ week: '2026-W49', outcome: 'sent' });
    expect(a.lines[0]).toMatch(/missed by 2 h 30 min.*catching up once/);

    const b = cycle('missed', { now: new Date('2026-12-07T11:00:00Z') }); // another process starting later
    expect((await b.run()).outcome).toBe('not-ours');
    expect(a.runs.sent.length + b.runs.sent.length).toBe(1);
    const [fire] = await listFires(t.db, 'missed');
    expect(fire).toMatchObject({ outcome: 'sent', week: '2026-W49' });
  });

  it('does not send a stale issue from a process started days late unless forced', async () => {
    const clock = { now: new Date('2026-12-19T09:00:00Z') }; // Saturday: slot 14 Dec missed by 5 days
    const late = cycle('stale', clock);
    const result = await late.run();
    expect(result).toMatchObject({ week: '2026-W50', outcome: 'skipped-stale' });
    expect(late.lines.join('\n')).toMatch(/missed by 5 days.*not sending a stale issue/);
    expect(late.runs.sent).toEqual([]);

    const forced = cycle('stale', clock, { force: true });
    expect((await forced.run()).outcome).toBe('sent');
    expect(forced.runs.sent).toEqual(['2026-W50']);
  });

  it('waits for approval, checks again, and sends once approved', async () => {
    const clock = { now: new Date('2026-12-28T08:00:00Z') };
    const c = cycle('approval', clock, { requireApproval: true });
    expect(await c.run()).toMatchObject({ week: '2026-W52', outcome: 'waiting-approval' });
    clock.now = new Date('2026-12-28T08:05:00Z');
    expect((await c.run()).outcome).toBe('waiting-approval');
    expect(c.runs.sent).toEqual([]);
    expect(c.lines.filter((l) => /waiting for an editor/.test(l))).toHaveLength(1);

    await t.db
      .updateTable('issues')
      .set({ status: 'approved', approved_at: new Date() })
      .where('week', '=', '2026-W52')
      .execute();
    clock.now = new Date('2026-12-28T09:10:00Z');
    expect((await c.run()).outcome).toBe('sent');
    expect(c.runs).toEqual({ built: ['2026-W52'], sent: ['2026-W52'] });
  });

  it('lets exactly one of two coordinators on separate connections run a slot', async () => {
    for (const day of ['2027-01-04', '2027-01-11', '2027-01-18']) {
      const clock = { now: new Date(`${day}T08:00:00Z`) };
      const a = cycle('race', clock, { db: t.db });
      const b = cycle('race', clock, { db: other });
      const results = await Promise.all([a.run(), b.run()]);
      expect(results.map((r) => r.outcome).sort()).toEqual(['not-ours', 'sent']);
      expect(a.runs.sent.length + b.runs.sent.length).toBe(1);
      expect(a.runs.built.length + b.runs.built.length).toBe(1);
    }
    expect(await listFires(t.db, 'race')).toHaveLength(3);
  });

  it('records a failure and takes over a run whose process died', async () => {
    const clock = { now: new Date('2027-02-01T08:00:00Z') };
    const failing = cycle('crash', clock, {
      actions: {
        buildIssue: async () => {
          throw new Error('no stories this week');
        },
        sendIssue: async () => 'never',
      },
    });
    expect(await failing.run()).toMatchObject({
      outcome: 'failed',
      detail: expect.stringMatching(/no stories this week.*--force/),
    });

    // A run that died mid-send leaves 'running' with an old heartbeat: the next process takes it over.
    await t.db
      .insertInto('schedule_fires')
      .values({
        schedule_name: 'crash',
        slot: new Date('2027-02-08T08:00:00Z'),
        owner: 'dead',
        outcome: 'running',
        updated_at: new Date('2027-02-08T08:00:00Z'),
      })
      .execute();
    const next = cycle('crash', { now: new Date('2027-02-08T08:30:00Z') });
    expect(await next.run()).toMatchObject({ week: '2027-W05', outcome: 'sent' });
    expect(next.lines[0]).toMatch(/dead stopped answering.*taking it over/);
  });

  it('a run killed just now: says when its 20 s lease runs out, and takes it over then', async () => {
    const slot = new Date('2027-03-01T08:00:00Z');
    await t.db
      .insertInto('schedule_fires')
      .values({
        schedule_name: 'killed',
        slot,
        owner: 'killed-a-moment-ago',
        outcome: 'running',
        updated_at: new Date('2027-03-01T08:00:05Z'),
      })
      .execute();
    const clock = { now: new Date('2027-03-01T08:00:10Z') };
    const restarted = cycle('killed', clock, { leaseMs: 20_000 });
    const early = await restarted.run();
    expect(early.outcome).toBe('not-ours');
    // The last heartbeat was 5 s ago: look again in 15 s (plus a second's margin).
    expect(early.retryInMs).toBe(16_000);
    clock.now = new Date(clock.now.getTime() + (early.retryInMs as number));
    expect(await restarted.run()).toMatchObject({ week: '2027-W08', outcome: 'sent' });
    expect(restarted.lines[0]).toMatch(/killed-a-moment-ago stopped answering.*taking it over/);
  });
});
