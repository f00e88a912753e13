import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Engagement } from '../selection/selection.ts';

/**
 * Clicks by people (not scanners or machines) on the stories of issues before `week`, counted per
 * source and per audience segment. Null when there are none yet, so scores do not pretend to know.
 */
export async function loadEngagement(db: Db, week: string): Promise<Engagement | null> {
  const clicks = db
    .selectFrom('tracking_events as e')
    .innerJoin('issues as i', 'i.id', 'e.issue_id')
    .innerJoin('issue_links as l', (join) =>
      join.onRef('l.issue_id', '=', 'e.issue_id').onRef('l.position', '=', 'e.link_position'),
    )
    .innerJoin('stories as s', 's.id', 'l.story_id')
    .where('e.kind', '=', 'click')
    .where('e.class', 'in', ['human', 'unknown'])
    .where('i.week', '<', week);
  const bySource = await clicks
    .select(['s.source_name as key', sql<number>`count(*)::int`.as('clicks')])
    .groupBy('s.source_name')
    .execute();
  if (bySource.length === 0) return null;
  const byAudience = await clicks
    .innerJoin('story_segments as ss', 'ss.story_id', 's.id')
    .innerJoin('segments as g', 'g.id', 'ss.segment_id')
    .select(['g.name as key', sql<number>`count(*)::int`.as('clicks')])
    .groupBy('g.name')
    .execute();
  const toRecord = (rows: Array<{ key: string; clicks: number }>) =>
    Object.fromEntries(rows.map((row) => [row.key, Number(row.clicks)]));
  return { bySource: toRecord(bySource), byAudience: toRecord(byAudience) };
}
