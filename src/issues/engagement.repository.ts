import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Engagement, FeatureCounts, SegmentEngagement } from '../selection/selection.ts';
import { storyFeatures } from '../selection/story-features.ts';
import { loadStoriesByIds } from '../stories/story.repository.ts';

/** The engagement term learns from this many of the latest issues that went out before the week. */
export const ENGAGEMENT_WINDOW_ISSUES = 8;

interface StoryRow {
  slug: string;
  story_id: string;
  exposure: number;
  clicks: number;
  more: number;
  less: number;
}

/**
 * What each segment's readers did with the stories of its sections in the last ENGAGEMENT_WINDOW_ISSUES
 * issues sent before `week`, per story feature (source and topics, src/selection/story-features.ts):
 * exposure = sent copies to readers of the segment (their copy's segment set names it) carrying the story;
 * clicks = those readers who clicked the story's own link as people (event_link_readers holds human
 * clicks only: scanners, prefetches and machines never count); more / less = their votes on it. One
 * set-based statement, then the features in memory. Null when no segment has any history yet.
 */
export async function loadEngagement(db: Db, week: string): Promise<Engagement | null> {
  const rows = await sql<StoryRow>`
    WITH recent AS (
      SELECT id FROM issues
      WHERE week < ${week} AND status IN ('sending', 'paused', 'sent')
      ORDER BY week DESC LIMIT ${ENGAGEMENT_WINDOW_ISSUES}
    ),
    shown AS (
      SELECT DISTINCT ii.issue_id, g.slug, ii.story_id
      FROM issue_items ii JOIN recent r ON r.id = ii.issue_id JOIN segments g ON g.id = ii.segment_id
    ),
    copies AS (
      SELECT ro.issue_id, slug, sum(ro.deliveries)::bigint AS copies
      FROM issue_delivery_rollups ro JOIN recent r ON r.id = ro.issue_id
      CROSS JOIN LATERAL unnest(string_to_array(ro.segment_key, '+')) AS slug
      WHERE ro.status = 'sent'
      GROUP BY 1, 2
    ),
    clicked AS (
      SELECT lr.issue_id, slug, l.story_id, count(DISTINCT lr.subscriber_id) AS clicks
      FROM event_link_readers lr JOIN recent r ON r.id = lr.issue_id
      JOIN issue_links l ON l.issue_id = lr.issue_id AND l.position = lr.link_position AND l.kind = 'story'
      JOIN deliveries d ON d.issue_id = lr.issue_id AND d.subscriber_id = lr.subscriber_id
      CROSS JOIN LATERAL unnest(string_to_array(d.segment_key, '+')) AS slug
      WHERE lr.clicks > 0 AND l.story_id IS NOT NULL
      GROUP BY 1, 2, 3
    ),
    voted AS (
      SELECT v.issue_id, slug, v.story_id,
        count(*) FILTER (WHERE v.vote > 0) AS more, count(*) FILTER (WHERE v.vote < 0) AS less
      FROM story_votes v JOIN recent r ON r.id = v.issue_id
      JOIN deliveries d ON d.issue_id = v.issue_id AND d.subscriber_id = v.subscriber_id
      CROSS JOIN LATERAL unnest(string_to_array(d.segment_key, '+')) AS slug
      GROUP BY 1, 2, 3
    )
    SELECT s.slug, s.story_id,
      sum(coalesce(c.copies, 0))::float8 AS exposure, sum(coalesce(k.clicks, 0))::float8 AS clicks,
      sum(coalesce(v.more, 0))::float8 AS more, sum(coalesce(v.less, 0))::float8 AS less
    FROM shown s
    LEFT JOIN copies c ON c.issue_id = s.issue_id AND c.slug = s.slug
    LEFT JOIN clicked k ON k.issue_id = s.issue_id AND k.slug = s.slug AND k.story_id = s.story_id
    LEFT JOIN voted v ON v.issue_id = s.issue_id AND v.slug = s.slug AND v.story_id = s.story_id
    GROUP BY 1, 2
    HAVING sum(coalesce(c.copies, 0)) > 0 OR sum(coalesce(v.more, 0) + coalesce(v.less, 0)) > 0
    ORDER BY 1, 2
  `.execute(db);
  if (rows.rows.length === 0) return null;
  if (!rows.rows.some((r) => r.clicks > 0 || r.more > 0 || r.less > 0)) return null;
  const [segments, stories] = await Promise.all([
    db.selectFrom('segments').select(['slug', 'name']).execute(),
    loadStoriesByIds(db, [...new Set(rows.rows.map((r) => r.story_id))]),
  ]);
  const nameOf = new Map(segments.map((s) => [s.slug, s.name]));
  const featuresOf = new Map(stories.map((story) => [story.id, storyFeatures(story)]));
  const bySegment: Record<string, { features: Record<string, FeatureCounts>; total: FeatureCounts }> = {};
  for (const row of rows.rows) {
    const name = nameOf.get(row.slug);
    const features = featuresOf.get(row.story_id);
    if (!name || !features) continue;
    const segment = bySegment[name] ?? { features: {}, total: zero() };
    bySegment[name] = segment;
    const counts = {
      exposure: Number(row.exposure),
      clicks: Number(row.clicks),
      more: Number(row.more),
      less: Number(row.less),
    };
    add(segment.total, counts);
    for (const key of [features.source, ...features.topics]) {
      const known = segment.features[key] ?? zero();
      segment.features[key] = known;
      add(known, counts);
    }
  }
  return { bySegment: bySegment as Record<string, SegmentEngagement> };
}

const zero = (): FeatureCounts => ({ exposure: 0, clicks: 0, more: 0, less: 0 });

function add(into: FeatureCounts, counts: FeatureCounts): void {
  into.exposure += counts.exposure;
  into.clicks += counts.clicks;
  into.more += counts.more;
  into.less += counts.less;
}
