import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { segmentKeySql } from '../stories/segment-set.ts';

export interface AudienceSegmentSet {
  /** Sorted slugs joined by '+', as deliveries.segment_key. */
  segmentKey: string;
  subscribers: number;
}

/**
 * The segment sets active subscribers actually follow, largest audience first: what the editor picks
 * from to see the edition a real group of readers receives. One query.
 */
export async function listAudienceSegmentSets(db: Db): Promise<AudienceSegmentSet[]> {
  const result = await sql<{ segment_key: string; subscribers: string }>`
    SELECT segment_key, count(*) AS subscribers FROM (
      SELECT ${segmentKeySql(sql`g.slug`)} AS segment_key
      FROM subscriptions s
      JOIN subscribers r ON r.id = s.subscriber_id AND r.status = 'active'
      JOIN segments g ON g.id = s.segment_id
      GROUP BY s.subscriber_id
    ) sets
    GROUP BY segment_key
    ORDER BY count(*) DESC, segment_key`.execute(db);
  return result.rows.map((row) => ({ segmentKey: row.segment_key, subscribers: Number(row.subscribers) }));
}
