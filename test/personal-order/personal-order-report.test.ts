import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSend } from '../../src/delivery/start-send.ts';
import { rateDifference, wilsonInterval } from '../../src/personal-order/rate-difference.ts';
import { formatPersonalOrder, loadPersonalOrderReport } from '../../src/reports/personal-order-report.ts';
import { personalOrderSection } from '../../src/web/editor/personal-order-section.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { addReaders, seedIssue } from './order-fixtures.ts';

describe('difference of two click rates', () => {
  it('matches Newcombe’s worked examples (1998, method 10)', () => {
    const d = rateDifference(56, 70, 48, 80);
    expect(d.difference).toBeCloseTo(0.2, 4);
    expect(d.low).toBeCloseTo(0.0524, 4);
    expect(d.high).toBeCloseTo(0.3339, 4);
    expect(d.significant).toBe(true);
    const small = rateDifference(9, 10, 3, 10);
    expect(small.low).toBeCloseTo(0.1705, 4);
    expect(small.high).toBeCloseTo(0.809, 4);
  });

  it('says "not enough data" for small groups, and stays inside −1..1 at the edges', () => {
    expect(rateDifference(3, 20, 1, 5).enoughData).toBe(false);
    const edge = rateDifference(0, 500, 0, 500);
    expect(edge.difference).toBe(0);
    expect(edge.low).toBeLessThan(0);
    expect(edge.high).toBeGreaterThan(0);
    expect(edge.significant).toBe(false);
    expect(wilsonInterval(0, 0)).toEqual([0, 1]);
  });
});

describe('personal order report', () => {
  let test: TestDatabase;
  let issueId: number;

  beforeAll(async () => {
    test = await createTestDatabase();
    const issue = await seedIssue(test.db, '2026-W48', 4);
    const names = Array.from({ length: 400 }, (_, i) => `r${i}`);
    await addReaders(test.db, names, ['r0', 'r1']);
    issueId = issue.issueId;
    await startSend(test.db, issueId, {
      messageIdDomain: 'news.example.test',
      personalOrder: { holdout: 0.4, sectionsFor: () => null },
    });
    await test.db.updateTable('deliveries').set({ status: 'sent' }).where('issue_id', '=', issueId).execute();
    // Every personal-group reader with an even id clicked; one holdout reader in ten did.
    const rows = await test.db
      .selectFrom('deliveries')
      .select(['subscriber_id', 'order_group'])
      .where('issue_id', '=', issueId)
      .execute();
    const clickers = rows.filter((row, i) =>
      row.order_group === 'personal'
        ? Number(row.subscriber_id) % 2 === 0
        : row.order_group === 'holdout' && i % 10 === 0,
    );
    await test.db
      .insertInto('event_reader_counts')
      .values(
        clickers.map((row) => ({
          issue_id: issueId,
          subscriber_id: row.subscriber_id,
          kind: 'click',
          class: 'human',
          events: 1,
        })),
      )
      .execute();
  });
  afterAll(async () => {
    await test?.close();
  });

  it('compares human click rate of the personal group with the holdout, untracked readers in neither', async () => {
    const report = await loadPersonalOrderReport(test.db, issueId);
    expect(report).not.toBeNull();
    if (!report) return;
    expect(report.personal.delivered + report.holdout.delivered).toBe(398);
    expect(report.holdout.delivered).toBeGreaterThan(120);
    expect(report.personal.humanClickRate).toBeGreaterThan(0.4);
    expect(report.holdout.humanClickRate).toBeLessThan(0.2);
    expect(report.comparison.enoughData).toBe(true);
    expect(report.comparison.significant).toBe(true);
    expect(report.comparison.low).toBeGreaterThan(0);
    expect(formatPersonalOrder(report)).toMatch(/click rate difference: \+\d+\.\d points \(95 % interval/);
    const section = personalOrderSection(report).toString();
    expect(section).toContain('data-order-group="holdout"');
    expect(section).toMatch(/Difference in human click rate: \+/);
  });

  it('is null for an issue sent without personal order', async () => {
    const other = await seedIssue(test.db, '2026-W49', 4);
    await startSend(test.db, other.issueId, { messageIdDomain: 'news.example.test' });
    expect(await loadPersonalOrderReport(test.db, other.issueId)).toBeNull();
  });
});
