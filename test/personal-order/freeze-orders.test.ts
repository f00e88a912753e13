import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/database.ts';
import { editionRendererFor, messageFactoryFor } from '../../src/delivery/edition-messages.ts';
import { personalOrderPlan } from '../../src/delivery/send-issue.ts';
import { runWorker } from '../../src/delivery/send-worker.ts';
import { startSend } from '../../src/delivery/start-send.ts';
import { editionFor } from '../../src/issues/issue-content.ts';
import { createSmtpMailer } from '../../src/mail/smtp-mailer.ts';
import { MAX_SHIFT } from '../../src/personal-order/personal-order.ts';
import { issueLinks } from '../../src/render/issue-links.ts';
import { testConfig } from '../delivery/send-fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startSmtpSink } from '../support/smtp-sink.ts';
import { addClicks, addReaders, type SeededIssue, seedIssue } from './order-fixtures.ts';

const config = testConfig({ PERSONAL_ORDER_HOLDOUT: '0' });

async function deliveries(db: Db, issueId: number) {
  const rows = await db
    .selectFrom('deliveries')
    .innerJoin('subscribers', 'subscribers.id', 'deliveries.subscriber_id')
    .select([
      'subscribers.name',
      'deliveries.subscriber_id',
      'deliveries.story_order',
      'deliveries.order_group',
    ])
    .where('deliveries.issue_id', '=', issueId)
    .execute();
  return new Map(rows.map((row) => [row.name as string, row]));
}

function movableOf(issue: SeededIssue): string[][] {
  const edition = editionFor(issue.content, ['researchers']);
  return editionRendererFor(config, { honeypot: true })
    .template(edition)
    .movable.map((section) => section.storyIds);
}

describe('each reader’s own order, decided at the freeze', () => {
  let test: TestDatabase;
  let earlier: SeededIssue;
  let current: SeededIssue;
  let readers: Map<string, string>;

  beforeAll(async () => {
    test = await createTestDatabase();
    const older = await seedIssue(test.db, '2026-W46', 8, { status: 'sent' });
    earlier = await seedIssue(test.db, '2026-W47', 8, { status: 'sent' });
    readers = await addReaders(
      test.db,
      ['wired-fan', 'verge-fan', 'newcomer', 'private', 'follower'],
      ['private'],
    );
    const storiesOf = (issue: SeededIssue, source: string) =>
      issue.stories.filter((story) => story.source.name === source).map((story) => story.id);
    await addClicks(test.db, earlier, readers.get('wired-fan') as string, storiesOf(earlier, 'Wired'));
    await addClicks(test.db, earlier, readers.get('verge-fan') as string, storiesOf(earlier, 'The Verge'));
    await addClicks(test.db, earlier, readers.get('private') as string, storiesOf(earlier, 'Wired'));
    // The follower clicked one story two weeks ago: this week's update of it comes first for them.
    await addClicks(test.db, older, readers.get('follower') as string, [`2026-W46-1`]);
    current = await seedIssue(test.db, '2026-W48', 10, {
      pinned: [7],
      update: { n: 9, of: '2026-W46-1' },
    });
    await startSend(test.db, current.issueId, {
      messageIdDomain: 'news.example.test',
      links: issueLinks(current.content),
      personalOrder: personalOrderPlan(current.content, config),
    });
  });
  afterAll(async () => {
    await test?.close();
  });

  it('gives two readers with different click histories different orders of the same stories, top story and pins in place', async () => {
    const movable = movableOf(current);
    expect(movable.length).toBe(1);
    const ids = movable[0] as string[];
    expect(ids.length).toBeGreaterThanOrEqual(4);
    // The hero (story 0), the section's first card (story 1) and the pinned story 7 are not movable.
    expect(ids).not.toContain('2026-W48-0');
    expect(ids).not.toContain('2026-W48-1');
    expect(ids).not.toContain('2026-W48-7');
    const rows = await deliveries(test.db, current.issueId);
    const wired = rows.get('wired-fan')?.story_order as string[];
    const verge = rows.get('verge-fan')?.story_order as string[];
    expect(wired).not.toBeNull();
    expect(verge).not.toBeNull();
    expect(wired).not.toEqual(verge);
    expect([...wired].sort()).toEqual([...ids].sort());
    expect([...verge].sort()).toEqual([...ids].sort());
    const sourceOf = (id: string) => current.stories.find((story) => story.id === id)?.source.name;
    // Each reader's favourite source comes earlier than the editor put it, and earlier than for the other.
    for (const [order, other, source] of [
      [wired, verge, 'Wired'],
      [verge, wired, 'The Verge'],
    ] as const) {
      const favourite = ids.filter((id, index) => index > 0 && sourceOf(id) === source)[0] as string;
      expect(order.indexOf(favourite)).toBeLessThan(ids.indexOf(favourite));
      expect(order.indexOf(favourite)).toBeLessThan(other.indexOf(favourite));
    }
    for (const order of [wired, verge])
      for (const [place, id] of order.entries())
        expect(Math.abs(ids.indexOf(id) - place)).toBeLessThanOrEqual(MAX_SHIFT);
  });

  it('keeps the editorial order for a reader without history and for untracked readers', async () => {
    const rows = await deliveries(test.db, current.issueId);
    expect(rows.get('newcomer')).toMatchObject({ order_group: 'personal', story_order: null });
    expect(rows.get('private')).toMatchObject({ order_group: null, story_order: null });
  });

  it('puts an update first for the reader who clicked the story it continues', async () => {
    const ids = (movableOf(current)[0] as string[]).slice();
    const update = '2026-W48-9';
    expect(ids).toContain(update);
    const follower = (await deliveries(test.db, current.issueId)).get('follower')?.story_order as string[];
    expect(follower.indexOf(update)).toBe(Math.max(0, ids.indexOf(update) - MAX_SHIFT));
    const wired = (await deliveries(test.db, current.issueId)).get('wired-fan')?.story_order as string[];
    expect(wired.indexOf(update)).not.toBe(0);
  });

  it('changes nothing on a second freeze (a retry, a second worker)', async () => {
    const before = await deliveries(test.db, current.issueId);
    await startSend(test.db, current.issueId, {
      messageIdDomain: 'news.example.test',
      personalOrder: { holdout: 1, sectionsFor: () => [] },
    });
    expect(await deliveries(test.db, current.issueId)).toEqual(before);
  });

  it('keeps the holdout on the editorial order', async () => {
    const next = await seedIssue(test.db, '2026-W49', 10);
    await startSend(test.db, next.issueId, {
      messageIdDomain: 'news.example.test',
      personalOrder: personalOrderPlan(next.content, testConfig({ PERSONAL_ORDER_HOLDOUT: '1' })),
    });
    const rows = await deliveries(test.db, next.issueId);
    expect(rows.get('wired-fan')).toMatchObject({ order_group: 'holdout', story_order: null });
    expect(rows.get('verge-fan')).toMatchObject({ order_group: 'holdout', story_order: null });
    expect(rows.get('private')).toMatchObject({ order_group: null, story_order: null });
  });

  it('sends each copy in the order stored at the freeze; the newcomer and the untracked reader in the editorial order', async () => {
    const sink = await startSmtpSink();
    const sendConfig = testConfig({ SMTP_URL: sink.url });
    const mailer = createSmtpMailer({ url: sink.url, maxConnections: 2 });
    try {
      const summary = await runWorker({
        db: test.db,
        mailer,
        config: sendConfig,
        workerId: 'order-model-test',
        issueId: current.issueId,
        messages: async () => messageFactoryFor(current.content, sendConfig),
        pollMs: 20,
      });
      expect(summary).toMatchObject({ sent: 5, failed: 0 });
      const ids = movableOf(current)[0] as string[];
      const titleOf = (id: string) => current.stories.find((story) => story.id === id)?.title as string;
      const movableInText = (email: string) => {
        const text = sink.messages.find((m) => m.envelopeTo[0] === email)?.parsed.text ?? '';
        return ids
          .map((id) => ({ id, at: text.indexOf(`\n${titleOf(id)}\n`) }))
          .filter((entry) => entry.at >= 0)
          .sort((a, b) => a.at - b.at)
          .map((entry) => entry.id);
      };
      const rows = await deliveries(test.db, current.issueId);
      expect(movableInText('wired-fan@example.test')).toEqual(rows.get('wired-fan')?.story_order);
      expect(movableInText('verge-fan@example.test')).toEqual(rows.get('verge-fan')?.story_order);
      expect(movableInText('newcomer@example.test')).toEqual(ids);
      expect(movableInText('private@example.test')).toEqual(ids);
    } finally {
      await mailer.close();
      await sink.close();
    }
  });

  it('splits the holdout by a stable hash of issue and reader, near the share', async () => {
    const many = await addReaders(
      test.db,
      Array.from({ length: 3000 }, (_, i) => `reader-${i}`),
    );
    const issue = await seedIssue(test.db, '2026-W50', 3);
    await startSend(test.db, issue.issueId, {
      messageIdDomain: 'news.example.test',
      personalOrder: { holdout: 0.1, sectionsFor: () => null },
    });
    const rows = await deliveries(test.db, issue.issueId);
    let holdout = 0;
    for (const id of many.values()) {
      const digest = createHash('md5').update(`${issue.issueId}:${id}`).digest();
      const expected = digest.readUInt32BE(0) < 0.1 * 2 ** 32 ? 'holdout' : 'personal';
      const row = [...rows.values()].find((r) => r.subscriber_id === id);
      expect(row?.order_group).toBe(expected);
      if (expected === 'holdout') holdout++;
    }
    expect(holdout / many.size).toBeGreaterThan(0.08);
    expect(holdout / many.size).toBeLessThan(0.12);
    expect(rows.get('private')?.order_group).toBeNull();
  });
});
