import { sql } from 'kysely';
import type { Db, OrderGroup } from '../db/database.ts';
import { type RateDifference, rateDifference } from '../personal-order/rate-difference.ts';

/** One order group's figures: tracked deliveries sent, and the distinct human clickers among them. */
export interface OrderGroupFigures {
  readers: number;
  delivered: number;
  humanClickers: number;
  /** humanClickers / delivered (0 with nothing delivered). */
  humanClickRate: number;
}

/** Personal order against the holdout for one issue, as `recap stats --json` and the editor show it. */
export interface PersonalOrderReport {
  personal: OrderGroupFigures;
  holdout: OrderGroupFigures;
  /** Readers of the personal group whose copy has its own order (the rest had no history, or it changed nothing). */
  reordered: number;
  /** Click rate personal − holdout with its 95 % interval; `enoughData` false: "not enough data". */
  comparison: RateDifference;
}

/**
 * The issue's human click rate of personal-order readers against the holdout, or null when the issue
 * has no order groups (personal order off, or sent before it). One pass over the issue's deliveries
 * (its unique index), clickers from the per-reader rollup.
 */
export async function loadPersonalOrderReport(db: Db, issueId: number): Promise<PersonalOrderReport | null> {
  const { rows } = await sql<{
    order_group: OrderGroup;
    readers: string;
    delivered: string;
    clickers: string;
    reordered: string;
  }>`
    SELECT d.order_group, count(*) AS readers,
      count(*) FILTER (WHERE d.status = 'sent') AS delivered,
      count(*) FILTER (WHERE d.status = 'sent' AND EXISTS (
        SELECT 1 FROM event_reader_counts r WHERE r.issue_id = d.issue_id AND r.subscriber_id = d.subscriber_id
          AND r.kind = 'click' AND r.class = 'human' AND r.events > 0)) AS clickers,
      count(*) FILTER (WHERE d.story_order IS NOT NULL) AS reordered
    FROM deliveries d
    WHERE d.issue_id = ${issueId} AND d.order_group IS NOT NULL
    GROUP BY 1
  `.execute(db);
  if (rows.length === 0) return null;
  const figures = (group: OrderGroup): OrderGroupFigures => {
    const row = rows.find((r) => r.order_group === group);
    const delivered = Number(row?.delivered ?? 0);
    const humanClickers = Number(row?.clickers ?? 0);
    return {
      readers: Number(row?.readers ?? 0),
      delivered,
      humanClickers,
      humanClickRate: delivered > 0 ? humanClickers / delivered : 0,
    };
  };
  const personal = figures('personal');
  const holdout = figures('holdout');
  return {
    personal,
    holdout,
    reordered: Number(rows.find((r) => r.order_group === 'personal')?.reordered ?? 0),
    comparison: rateDifference(
      personal.humanClickers,
      personal.delivered,
      holdout.humanClickers,
      holdout.delivered,
    ),
  };
}

const percent = (value: number): string => `${(value * 100).toFixed(1)} %`;
const points = (value: number): string => `${value >= 0 ? '+' : '−'}${Math.abs(value * 100).toFixed(1)}`;

/** One sentence on the difference: its interval, or "not enough data". */
export function describeComparison(report: PersonalOrderReport): string {
  const c = report.comparison;
  if (!c.enoughData)
    return 'not enough data yet (at least 100 delivered in each group and 20 human clickers in all)';
  return `${points(c.difference)} points (95 % interval ${points(c.low)} to ${points(c.high)})${
    c.significant ? '' : ': not distinguishable from no difference'
  }`;
}

/** The comparison as lines of `recap stats`. */
export function formatPersonalOrder(report: PersonalOrderReport): string {
  const line = (name: string, g: OrderGroupFigures) =>
    `  ${name.padEnd(15)} ${String(g.delivered).padStart(8)} delivered  ${String(g.humanClickers).padStart(7)} human clickers  ${percent(g.humanClickRate)}`;
  return `${[
    '',
    `Personal order (${report.reordered} copies in the reader's own order)`,
    line('personal order', report.personal),
    line('holdout', report.holdout),
    `  click rate difference: ${describeComparison(report)}`,
  ].join('\n')}\n`;
}
