import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { realScheduleActions } from '../../src/schedule/schedule-actions.ts';
import { runScheduleCycle, type ScheduleCycleOptions } from '../../src/schedule/schedule-cycle.ts';
import { cronPattern } from '../../src/schedule/schedule-slot.ts';
import { createStoryPuller } from '../../src/schedule/story-pulls.ts';
import { createTestApp } from '../web/web-fixtures.ts';

const hour = 3_600_000;
let app: App;
let feed: Server;
let feedUrl: string;
let served = 0;

const story = (id: string) => ({
  id,
  title: `Pulled story ${id}`,
  url: `https://example.com/${id}`,
  source: { name: `Outlet ${id}` },
  publishedAt: '2026-11-25T09:30:00Z',
  audiences: ['Engineers'],
});

beforeAll(async () => {
  feed = createServer((_request, response) => {
    served += 1;
    response.writeHead(200, { 'content-type': 'application/x-ndjson' });
    response.end(['f1', 'f2', 'f3', 'f4'].map((id) => JSON.stringify(story(id))).join('\n'));
  });
  await new Promise<void>((resolve) => feed.listen(0, '127.0.0.1', resolve));
  feedUrl = `http://127.0.0.1:${(feed.address() as AddressInfo).port}/stories.ndjson`;
  app = await createTestApp({ RECAP_STORIES_URL: feedUrl, MIN_STORIES_PER_SEGMENT: '1' });
});
afterAll(async () => {
  await new Promise<void>((resolve) => feed?.close(() => resolve()));
  await app?.close();
});

function options(
  clock: { now: Date },
  actions: ScheduleCycleOptions['actions'],
  lines: string[],
  name: string,
): ScheduleCycleOptions {
  return {
    db: app.db,
    scheduleName: name,
    pattern: cronPattern('0 8 * * 1', 'UTC'),
    owner: `test-${name}`,
    now: () => clock.now,
    requireApproval: false,
    actions,
    log: (line) => lines.push(line),
    catchUpWindowMs: 12 * hour,
    lookbackMs: 8 * 24 * hour,
    leaseMs: 10 * 60_000,
  };
}

describe('the schedule pulls the story feeds', () => {
  it('pulls right before it builds a week, then sends', async () => {
    const order: string[] = [];
    const lines: string[] = [];
    const clock = { now: new Date('2026-12-07T08:00:00Z') };
    const result = await runScheduleCycle(
      options(
        clock,
        {
          async pullStories() {
            order.push(`pull at ${clock.now.toISOString()}`);
            return '2 new';
          },
          async buildIssue(week) {
            order.push(`build ${week}`);
            await app.db
              .insertInto('issues')
              .values({ week, status: 'draft', built_at: clock.now })
              .execute();
            return 'built';
          },
          async sendIssue(week) {
            order.push(`send ${week}`);
            return '0 sent';
          },
        },
        lines,
        'order',
      ),
    );
    expect(result.outcome).toBe('sent');
    expect(order).toEqual(['pull at 2026-12-07T08:00:00.000Z', 'build 2026-W49', 'send 2026-W49']);
    expect(lines.join('\n')).toContain('pulled the story feeds before building: 2 new');
  });

  it('a failing pull is reported and never blocks the build and the send', async () => {
    const order: string[] = [];
    const lines: string[] = [];
    const clock = { now: new Date('2026-12-14T08:00:00Z') };
    const result = await runScheduleCycle(
      options(
        clock,
        {
          async pullStories() {
            throw new Error('feed down');
          },
          async buildIssue(week) {
            order.push(`build ${week}`);
            await app.db
              .insertInto('issues')
              .values({ week, status: 'draft', built_at: clock.now })
              .execute();
            return 'built';
          },
          async sendIssue(week) {
            order.push(`send ${week}`);
            return '0 sent';
          },
        },
        lines,
        'failing',
      ),
    );
    expect(result.outcome).toBe('sent');
    expect(order).toEqual(['build 2026-W50', 'send 2026-W50']);
    expect(lines.join('\n')).toContain(
      'pulling the story feeds failed, building with the stories already in: feed down',
    );
  });

  it('with the real actions, the stories pulled at the slot are in the issue it builds', async () => {
    const lines: string[] = [];
    const clock = { now: new Date('2026-11-30T08:00:00Z') };
    const actions = realScheduleActions(
      app,
      () => clock.now,
      createStoryPuller(app, (line) => lines.push(line)),
    );
    const result = await runScheduleCycle(options(clock, actions, lines, 'real'));
    expect(served).toBe(1);
    expect(result.week).toBe('2026-W48');
    const items = await app.db
      .selectFrom('issue_items')
      .innerJoin('issues', 'issues.id', 'issue_items.issue_id')
      .select('issue_items.story_id')
      .where('issues.week', '=', '2026-W48')
      .execute();
    expect(items.map((i) => i.story_id).sort()).toEqual(['f1', 'f2', 'f3', 'f4']);
    expect(lines.join('\n')).toContain(`${feedUrl}: 4 new`);
  });
});
