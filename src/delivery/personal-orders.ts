import { sql } from 'kysely';
import type { Tx } from '../db/database.ts';
import {
  type HistoryEvent,
  type OrderableSection,
  personalOrder,
  type ReaderAction,
} from '../personal-order/personal-order.ts';
import { type StoryFeatures, storyFeatures } from '../selection/story-features.ts';

/** How many earlier issues a reader's history covers. */
export const HISTORY_ISSUES = 12;
/** Readers whose orders are computed and written per statement. */
const ORDER_BATCH = 2_000;

/** What the freeze needs to decide each reader's own order. */
export interface PersonalOrderPlan {
  /** Share of tracked readers (0..1) kept on the editorial order, by a stable hash of issue and reader. */
  holdout: number;
  /**
   * The movable sections of a segment set's edition with each story's features (rendered once per
   * segment set, only for sets that have a reader with history); null or empty: nothing to reorder.
   */
  sectionsFor(
    segmentKey: string,
  ): readonly OrderableSection[] | null | Promise<readonly OrderableSection[] | null>;
}

export interface PersonalOrderCounts {
  personal: number;
  holdout: number;
  /** Personal-group readers with a history in the last HISTORY_ISSUES issues. */
  withHistory: number;
  /** Deliveries given an order different from the editorial one. */
  ordered: number;
}

/**
 * Decides every delivery's order group and, for personal-group readers with a history, their own order
 * of the movable stories. Must run in the freeze's transaction, after the deliveries are inserted:
 * tracked deliveries get 'holdout' when the first 32 bits of md5(issue id ‖ ':' ‖ subscriber id), read as
 * a fraction, are below `plan.holdout`, else 'personal'; untracked ones keep null (editorial order). The
 * history (human clicks on the links of stories of the last HISTORY_ISSUES issues, and votes cast from
 * them) is aggregated in SQL for the personal-group readers only; orders are computed in batches and
 * written with UPDATE … FROM unnest. Cost grows with the readers who have a history, not the audience.
 */
export async function decidePersonalOrders(
  trx: Tx,
  issueId: number,
  plan: PersonalOrderPlan,
): Promise<PersonalOrderCounts> {
  if (!(plan.holdout >= 0 && plan.holdout <= 1))
    throw new Error(`holdout share ${plan.holdout} is not in 0..1`);
  const groups = await sql<{ order_group: string; n: string }>`
    WITH assigned AS (
      UPDATE deliveries SET order_group = CASE
          WHEN ('x' || substr(md5(issue_id::text || ':' || subscriber_id::text), 1, 8))::bit(32)::bigint
               < ${Math.round(plan.holdout * 2 ** 32)}::bigint THEN 'holdout' ELSE 'personal' END
      WHERE issue_id = ${issueId} AND tracked
      RETURNING order_group
    )
    SELECT order_group, count(*) AS n FROM assigned GROUP BY 1
  `.execute(trx);
  const count = (group: string) => Number(groups.rows.find((row) => row.order_group === group)?.n ?? 0);
  const counts: PersonalOrderCounts = {
    personal: count('personal'),
    holdout: count('holdout'),
    withHistory: 0,
    ordered: 0,
  };
  if (counts.personal === 0) return counts;

  // The history of the personal-group readers, one row per reader × story × action × issue.
  await sql`
    CREATE TEMP TABLE order_history ON COMMIT DROP AS
    WITH this_issue AS (SELECT week FROM issues WHERE id = ${issueId}),
    recent AS (
      SELECT i.id, (row_number() OVER (ORDER BY i.week DESC) - 1)::int AS age
      FROM issues i, this_issue t
      WHERE i.week < t.week AND i.status IN ('sending', 'paused', 'sent')
      ORDER BY i.week DESC LIMIT ${HISTORY_ISSUES}
    ),
    readers AS (
      SELECT subscriber_id, segment_key FROM deliveries
      WHERE issue_id = ${issueId} AND order_group = 'personal'
    )
    SELECT d.subscriber_id, l.story_id, 'click'::text AS action, r.age, sum(e.clicks)::int AS times
    FROM readers d
    JOIN event_link_readers e ON e.subscriber_id = d.subscriber_id
    JOIN recent r ON r.id = e.issue_id
    JOIN issue_links l ON l.issue_id = e.issue_id AND l.position = e.link_position
    WHERE l.story_id IS NOT NULL AND e.clicks > 0
    GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT d.subscriber_id, v.story_id, CASE WHEN v.vote > 0 THEN 'more' ELSE 'less' END, r.age, 1
    FROM readers d
    JOIN story_votes v ON v.subscriber_id = d.subscriber_id
    JOIN recent r ON r.id = v.issue_id
  `.execute(trx);
  await sql`CREATE INDEX ON order_history (subscriber_id)`.execute(trx);

  const features = new Map<string, StoryFeatures>();
  const storyRows = await sql<{
    id: string;
    title: string;
    tldr_what_changed: string | null;
    source_name: string;
    region: string | null;
  }>`
    SELECT s.id, s.title, s.tldr_what_changed, s.source_name, s.region FROM stories s
    WHERE s.id IN (SELECT DISTINCT story_id FROM order_history)
  `.execute(trx);
  for (const row of storyRows.rows) {
    features.set(
      row.id,
      storyFeatures({
        title: row.title,
        tldr: { whatChanged: row.tldr_what_changed, whyItMatters: null, whatToDoNext: null },
        source: { name: row.source_name, url: null },
        region: row.region,
      }),
    );
  }

  const sections = new Map<string, readonly OrderableSection[] | null>();
  let after = '0';
  for (;;) {
    const rows = await sql<{
      subscriber_id: string;
      segment_key: string;
      story_id: string;
      action: ReaderAction;
      age: number;
      times: number;
    }>`
      WITH batch AS (
        SELECT DISTINCT subscriber_id FROM order_history
        WHERE subscriber_id > ${after}::bigint ORDER BY subscriber_id LIMIT ${ORDER_BATCH}
      )
      SELECT h.subscriber_id::text AS subscriber_id, d.segment_key, h.story_id, h.action, h.age, h.times
      FROM batch b
      JOIN order_history h ON h.subscriber_id = b.subscriber_id
      JOIN deliveries d ON d.issue_id = ${issueId} AND d.subscriber_id = b.subscriber_id
      ORDER BY h.subscriber_id, h.age, h.story_id, h.action
    `.execute(trx);
    if (rows.rows.length === 0) break;
    const readers = new Map<string, { segmentKey: string; history: HistoryEvent[] }>();
    for (const row of rows.rows) {
      const storyFeatures = features.get(row.story_id);
      let reader = readers.get(row.subscriber_id);
      if (!reader) {
        reader = { segmentKey: row.segment_key, history: [] };
        readers.set(row.subscriber_id, reader);
      }
      if (storyFeatures)
        reader.history.push({
          storyId: row.story_id,
          features: storyFeatures,
          action: row.action,
          age: row.age,
          count: row.times,
        });
      after = row.subscriber_id;
    }
    counts.withHistory += readers.size;
    const ids: string[] = [];
    const orders: string[] = [];
    for (const [subscriberId, reader] of readers) {
      if (!sections.has(reader.segmentKey))
        sections.set(reader.segmentKey, await plan.sectionsFor(reader.segmentKey));
      const movable = sections.get(reader.segmentKey);
      if (!movable || movable.length === 0) continue;
      const order = personalOrder(reader.history, movable);
      if (!order) continue;
      ids.push(subscriberId);
      orders.push(JSON.stringify(order));
    }
    if (ids.length > 0) {
      const updated = await sql`
        UPDATE deliveries d
        SET story_order = ARRAY(SELECT jsonb_array_elements_text(u.story_order::jsonb))
        FROM unnest(${ids}::bigint[], ${orders}::text[]) AS u(subscriber_id, story_order)
        WHERE d.issue_id = ${issueId} AND d.subscriber_id = u.subscriber_id
      `.execute(trx);
      counts.ordered += Number(updated.numAffectedRows ?? 0);
    }
  }
  await sql`DROP TABLE order_history`.execute(trx);
  return counts;
}
