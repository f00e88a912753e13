import { type RawBuilder, sql } from 'kysely';
import type { OrderGroup, Tx } from '../db/database.ts';
import {
  type HistoryEvent,
  type OrderableSection,
  personalOrder,
  type ReaderAction,
} from '../personal-order/personal-order.ts';
import { type StoryFeatures, storyFeatures } from '../selection/story-features.ts';
import { segmentSetFromKey } from '../stories/segment-set.ts';

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
  /** Personal-group readers with a history in the last HISTORY_ISSUES issues. */
  withHistory: number;
  /** Deliveries given an order different from the editorial one. */
  ordered: number;
}

/**
 * A delivery's order group, as the freeze's INSERT computes it: for a tracked delivery 'holdout' when
 * the first 32 bits of md5(issue id ‖ ':' ‖ subscriber id), read as a fraction, are below `holdout`,
 * else 'personal'; null for an untracked one (editorial order, in neither group). Stable: the same
 * reader of the same issue always lands in the same group.
 */
export function orderGroupSql(
  issueId: number,
  subscriberId: RawBuilder<unknown>,
  tracked: RawBuilder<unknown>,
  holdout: number,
): RawBuilder<OrderGroup | null> {
  if (!(holdout >= 0 && holdout <= 1)) throw new Error(`holdout share ${holdout} is not in 0..1`);
  return sql<OrderGroup | null>`CASE WHEN ${tracked} THEN
      CASE WHEN ('x' || substr(md5(${issueId}::text || ':' || ${subscriberId}::text), 1, 8))::bit(32)::bigint
             < ${Math.round(holdout * 2 ** 32)}::bigint THEN 'holdout' ELSE 'personal' END
    END`;
}

/**
 * Decides the own order of the movable stories for the issue's personal-group readers with a history.
 * Must run in the freeze's transaction, after the deliveries were inserted with their order group
 * (orderGroupSql); holdout and untracked deliveries keep a null story_order (editorial order). The
 * history (human clicks on the links of stories of the last HISTORY_ISSUES issues and votes cast from
 * them, aggregated in SQL for the personal-group readers only; for those with any, the stories their
 * earlier deliveries carried, as exposures) is read in batches; orders are computed in batches and
 * written with UPDATE … FROM unnest. Cost grows with the readers who have a history, not the audience.
 */
export async function decidePersonalOrders(
  trx: Tx,
  issueId: number,
  plan: PersonalOrderPlan,
): Promise<PersonalOrderCounts> {
  const counts: PersonalOrderCounts = { withHistory: 0, ordered: 0 };
  const personal = await sql<{ one: number }>`
    SELECT 1 AS one FROM deliveries WHERE issue_id = ${issueId} AND order_group = 'personal' LIMIT 1
  `.execute(trx);
  if (personal.rows.length === 0) return counts;
  await createHistoryTables(trx, issueId);
  const stories = await loadHistoryStories(trx);
  const sections = new Map<string, readonly OrderableSection[] | null>();
  const sectionsFor = async (segmentKey: string) => {
    if (!sections.has(segmentKey)) sections.set(segmentKey, await plan.sectionsFor(segmentKey));
    return sections.get(segmentKey) ?? null;
  };
  let after = '0';
  for (;;) {
    const batch = await sql<{ subscriber_id: string; segment_key: string }>`
      SELECT d.subscriber_id::text AS subscriber_id, d.segment_key FROM deliveries d
      WHERE d.issue_id = ${issueId} AND d.subscriber_id IN (
        SELECT DISTINCT subscriber_id FROM order_history
        WHERE subscriber_id > ${after}::bigint ORDER BY subscriber_id LIMIT ${ORDER_BATCH})
      ORDER BY d.subscriber_id
    `.execute(trx);
    const last = batch.rows[batch.rows.length - 1];
    if (!last) break;
    counts.withHistory += batch.rows.length;
    counts.ordered += await orderBatch(trx, issueId, batch.rows, stories, sectionsFor);
    after = last.subscriber_id;
  }
  await sql`DROP TABLE order_history, order_recent`.execute(trx);
  return counts;
}

/** The last HISTORY_ISSUES issues (order_recent) and the personal-group readers' clicks and votes (order_history). */
async function createHistoryTables(trx: Tx, issueId: number): Promise<void> {
  // The issues a history covers, newest first (age 0 = the latest before this one).
  await sql`
    CREATE TEMP TABLE order_recent ON COMMIT DROP AS
    SELECT i.id, (row_number() OVER (ORDER BY i.week DESC) - 1)::int AS age
    FROM issues i
    WHERE i.week < (SELECT week FROM issues WHERE id = ${issueId}) AND i.status IN ('sending', 'paused', 'sent')
    ORDER BY i.week DESC LIMIT ${HISTORY_ISSUES}
  `.execute(trx);
  // The clicks and votes of the personal-group readers, one row per reader × story × action × issue.
  await sql`
    CREATE TEMP TABLE order_history ON COMMIT DROP AS
    WITH readers AS (
      SELECT subscriber_id FROM deliveries WHERE issue_id = ${issueId} AND order_group = 'personal'
    )
    SELECT d.subscriber_id, l.story_id, 'click'::text AS action, r.age, sum(e.clicks)::int AS times
    FROM readers d
    JOIN event_link_readers e ON e.subscriber_id = d.subscriber_id
    JOIN order_recent r ON r.id = e.issue_id
    JOIN issue_links l ON l.issue_id = e.issue_id AND l.position = e.link_position
    WHERE l.story_id IS NOT NULL AND e.clicks > 0
    GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT d.subscriber_id, v.story_id, CASE WHEN v.vote > 0 THEN 'more' ELSE 'less' END, r.age, 1
    FROM readers d
    JOIN story_votes v ON v.subscriber_id = d.subscriber_id
    JOIN order_recent r ON r.id = v.issue_id
  `.execute(trx);
  await sql`CREATE INDEX ON order_history (subscriber_id)`.execute(trx);
}

/** Features of every story a history names: those the recent issues carried, per issue and segment, and those clicked or voted on. */
interface HistoryStories {
  features: Map<string, StoryFeatures>;
  /** Story ids per issue and segment slug. */
  carried: Map<number, Map<string, string[]>>;
  /** The 'shown' events of one earlier delivery (issue × segment set), built once per pair and shared. */
  shownOf(issue: number, segmentKey: string, age: number): HistoryEvent[];
}

async function loadHistoryStories(trx: Tx): Promise<HistoryStories> {
  // Every story the recent issues carried per segment, with its features: what a reader was shown.
  const features = new Map<string, StoryFeatures>();
  const carried = new Map<number, Map<string, string[]>>();
  const storyRows = await sql<{
    issue_id: number | null;
    slug: string | null;
    id: string;
    title: string;
    tldr_what_changed: string | null;
    source_name: string;
    region: string | null;
  }>`
    SELECT ii.issue_id, g.slug, s.id, s.title, s.tldr_what_changed, s.source_name, s.region
    FROM issue_items ii JOIN segments g ON g.id = ii.segment_id JOIN stories s ON s.id = ii.story_id
    WHERE ii.issue_id IN (SELECT id FROM order_recent)
    UNION ALL
    SELECT NULL, NULL, s.id, s.title, s.tldr_what_changed, s.source_name, s.region FROM stories s
    WHERE s.id IN (SELECT DISTINCT story_id FROM order_history)
  `.execute(trx);
  for (const row of storyRows.rows) {
    if (!features.has(row.id))
      features.set(
        row.id,
        storyFeatures({
          title: row.title,
          tldr: { whatChanged: row.tldr_what_changed, whyItMatters: null, whatToDoNext: null },
          source: { name: row.source_name, url: null },
          region: row.region,
        }),
      );
    if (row.issue_id === null || row.slug === null) continue;
    const bySlug = carried.get(row.issue_id) ?? new Map<string, string[]>();
    carried.set(row.issue_id, bySlug);
    bySlug.set(row.slug, [...(bySlug.get(row.slug) ?? []), row.id]);
  }
  // The 'shown' events of one earlier delivery (issue × segment set), built once per pair and shared.
  const shownCache = new Map<string, HistoryEvent[]>();
  const shownOf = (issue: number, segmentKey: string, age: number): HistoryEvent[] => {
    const cacheKey = `${issue}|${segmentKey}`;
    let events = shownCache.get(cacheKey);
    if (!events) {
      const bySlug = carried.get(issue);
      const ids = new Set(segmentSetFromKey(segmentKey).slugs.flatMap((slug) => bySlug?.get(slug) ?? []));
      events = [...ids].flatMap((storyId) => {
        const storyFeatures = features.get(storyId);
        return storyFeatures ? [{ storyId, features: storyFeatures, action: 'shown' as const, age }] : [];
      });
      shownCache.set(cacheKey, events);
    }
    return events;
  };

  return { features, carried, shownOf };
}

/** Orders one batch of readers with history and writes the orders that differ from the editorial one. */
async function orderBatch(
  trx: Tx,
  issueId: number,
  rows: ReadonlyArray<{ subscriber_id: string; segment_key: string }>,
  stories: HistoryStories,
  sectionsFor: (segmentKey: string) => Promise<readonly OrderableSection[] | null>,
): Promise<number> {
  const ids = rows.map((row) => row.subscriber_id);
  const [actions, earlier] = await Promise.all([
    sql<{ subscriber_id: string; story_id: string; action: ReaderAction; age: number; times: number }>`
      SELECT subscriber_id::text AS subscriber_id, story_id, action, age, times FROM order_history
      WHERE subscriber_id = ANY (${ids}::bigint[])
      ORDER BY subscriber_id, age, story_id, action
    `.execute(trx),
    sql<{ subscriber_id: string; issue_id: number; segment_key: string; age: number }>`
      SELECT d.subscriber_id::text AS subscriber_id, d.issue_id, d.segment_key, r.age
      FROM deliveries d JOIN order_recent r ON r.id = d.issue_id
      WHERE d.subscriber_id = ANY (${ids}::bigint[]) AND d.status = 'sent'
    `.execute(trx),
  ]);
  const histories = new Map<string, HistoryEvent[]>(ids.map((id) => [id, []]));
  for (const row of earlier.rows)
    histories.get(row.subscriber_id)?.push(...stories.shownOf(row.issue_id, row.segment_key, row.age));
  for (const row of actions.rows) {
    const features = stories.features.get(row.story_id);
    if (features)
      histories.get(row.subscriber_id)?.push({
        storyId: row.story_id,
        features,
        action: row.action,
        age: row.age,
        count: row.times,
      });
  }
  const readers: string[] = [];
  const orders: string[] = [];
  for (const row of rows) {
    const movable = await sectionsFor(row.segment_key);
    if (!movable || movable.length === 0) continue;
    const order = personalOrder(histories.get(row.subscriber_id) ?? [], movable);
    if (!order) continue;
    readers.push(row.subscriber_id);
    orders.push(JSON.stringify(order));
  }
  if (readers.length === 0) return 0;
  const updated = await sql`
    UPDATE deliveries d
    SET story_order = ARRAY(SELECT jsonb_array_elements_text(u.story_order::jsonb))
    FROM unnest(${readers}::bigint[], ${orders}::text[]) AS u(subscriber_id, story_order)
    WHERE d.issue_id = ${issueId} AND d.subscriber_id = u.subscriber_id
  `.execute(trx);
  return Number(updated.numAffectedRows ?? 0);
}
