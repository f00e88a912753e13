import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { createEventWriter, type IncomingEvent } from '../../src/tracking/event-writer.ts';
import { createTestApp, type Seeded, seedIssue } from '../web/web-fixtures.ts';

let app: App;
let seed: Seeded;

beforeAll(async () => {
  app = await createTestApp();
  seed = await seedIssue(app.db);
});
afterAll(async () => {
  await app?.close();
});

const open = (subscriberId: string): IncomingEvent => ({
  kind: 'open',
  issueId: seed.issueId,
  subscriberId,
  linkPosition: null,
  linkKind: null,
  method: 'GET',
  ip: '203.0.113.7',
  userAgent: 'Thunderbird/128.0',
  occurredAt: new Date(),
});
const count = async () =>
  Number(
    (
      await app.db
        .selectFrom('tracking_events')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('createEventWriter', () => {
  it('writes in batches of at most maxBatch rows and resolves each event once stored', async () => {
    await app.db.deleteFrom('tracking_events').execute();
    const writer = createEventWriter(app.db, { maxBatch: 100, maxDelayMs: 20 });
    const ids = Array.from({ length: 250 }, (_, i) => (i % 2 === 0 ? seed.alice : seed.bob));
    await Promise.all(ids.map((id) => writer.record(open(id))));
    expect(await count()).toBe(250);
    expect(writer.pending).toBe(0);
    await writer.close();
  });

  it('flushes what is queued on close, before the time limit', async () => {
    await app.db.deleteFrom('tracking_events').execute();
    const writer = createEventWriter(app.db, { maxBatch: 10_000, maxDelayMs: 60_000 });
    let stored = 0;
    const recorded = Array.from({ length: 30 }, () =>
      writer.record(open(seed.alice)).then(() => (stored += 1)),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stored).toBe(0);
    expect(await count()).toBe(0);
    await writer.close();
    await Promise.all(recorded);
    expect(stored).toBe(30);
    expect(await count()).toBe(30);
    await writer.record(open(seed.bob));
    expect(await count()).toBe(31);
  });

  it('rejects only the event the database refuses; the rest of its batch is stored', async () => {
    await app.db.deleteFrom('tracking_events').execute();
    const lostCounts: number[] = [];
    const writer = createEventWriter(app.db, {
      maxDelayMs: 20,
      onError: (_e, lost) => lostCounts.push(lost),
    });
    const good = Array.from({ length: 9 }, () => writer.record(open(seed.alice)));
    const bad = writer.record({ ...open(seed.alice), issueId: 999_999 });
    await expect(bad).rejects.toThrow();
    await Promise.all(good);
    expect(await count()).toBe(9);
    expect(lostCounts).toEqual([1]);
    await writer.close();
  });
});
