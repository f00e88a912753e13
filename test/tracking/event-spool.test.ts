import { appendFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type IdentifiedEvent, openEventSpool } from '../../src/tracking/event-spool.ts';
import { tempWorkdir } from '../support/cli.ts';

const event = (n: number): IdentifiedEvent => ({
  eventId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  kind: 'open',
  issueId: 1,
  subscriberId: '1',
  linkPosition: null,
  linkKind: null,
  method: 'GET',
  ip: '203.0.113.7',
  userAgent: 'Thunderbird/128.0',
  occurredAt: new Date(Date.UTC(2026, 11, 7, 2, 0, n % 60)),
  linksClickedWithinSecond: 0,
});

const alive = new Set(['host-1-1', 'host-2-2']);
const spool = (dir: string, instance: string, maxBytes = 1_000_000) =>
  openEventSpool({ dir, maxBytes, instance, isAlive: (owner) => alive.has(owner) });

describe('openEventSpool', () => {
  it('gives back what was appended, oldest first, and deletes the file once written', async () => {
    const dir = tempWorkdir();
    const mine = spool(dir, 'host-1-1');
    expect(await mine.append([event(1), event(2)])).toBe(true);
    expect(await mine.append([event(3)])).toBe(true);
    const written: IdentifiedEvent[] = [];
    const result = await mine.replay(async (events) => {
      written.push(...events);
    });
    expect(result).toMatchObject({ replayed: 3, unreadable: 0 });
    expect(written).toEqual([event(1), event(2), event(3)]);
    expect(mine.bytes).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
    await mine.close();
  });

  it('keeps everything when a write fails, and offers it again next round', async () => {
    const dir = tempWorkdir();
    const mine = spool(dir, 'host-1-1');
    await mine.append([event(1), event(2)]);
    const failed = await mine.replay(async () => {
      throw new Error('connect ECONNREFUSED');
    });
    expect(String(failed.error)).toMatch(/ECONNREFUSED/);
    await mine.append([event(3)]);
    const written: string[] = [];
    await mine.replay(async (events) => {
      written.push(...events.map((e) => e.eventId));
    });
    // The file that failed is written first, then what was appended meanwhile (next round).
    await mine.replay(async (events) => {
      written.push(...events.map((e) => e.eventId));
    });
    expect(written).toEqual([event(1), event(2), event(3)].map((e) => e.eventId));
    await mine.close();
  });

  it('refuses an append that would pass the bound, writing nothing of it', async () => {
    const dir = tempWorkdir();
    const line = JSON.stringify({ ...event(1), occurredAt: event(1).occurredAt.toISOString() }).length + 1;
    const mine = spool(dir, 'host-1-1', line * 2);
    expect(await mine.append([event(1), event(2)])).toBe(true);
    expect(await mine.append([event(3)])).toBe(false);
    expect(mine.bytes).toBe(line * 2);
    await mine.close();
  });

  it('lets exactly one of two live instances take over a dead one’s file, and skips a torn last line', async () => {
    const dir = tempWorkdir();
    const dead = spool(dir, 'host-9-9');
    await dead.append([event(1), event(2), event(3)]);
    await dead.close();
    // Killed in the middle of an append that was never answered.
    appendFileSync(path.join(dir, 'host-9-9.ndjson'), '{"eventId":"00000000-0000-4000-8000-0000');
    const first = spool(dir, 'host-1-1');
    const second = spool(dir, 'host-2-2');
    const written: string[] = [];
    const write = async (events: IdentifiedEvent[]) => {
      written.push(...events.map((e) => e.eventId));
    };
    const [a, b] = await Promise.all([first.replay(write), second.replay(write)]);
    expect(a.claimed.length + b.claimed.length).toBe(1);
    expect(written).toEqual([event(1), event(2), event(3)].map((e) => e.eventId));
    expect(a.unreadable + b.unreadable).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
    await first.close();
    await second.close();
  });
});
