import type { Db } from '../db/database.ts';
import type { SelectionOverride } from '../selection/selection.ts';
import { assertIssueEditable } from './issue.repository.ts';

export interface StoredOverride extends SelectionOverride {
  id: number;
  week: string;
  createdAt: Date;
}

interface Target {
  week: string;
  storyId: string;
  /** null: every segment. */
  segmentId: number | null;
}

/** Pin and drop exclude each other: a story has at most one of them per scope, the latest. */
async function replacePlacement(
  db: Db,
  target: Target,
  override: { kind: 'pin' | 'drop'; position: number | null },
) {
  await assertIssueEditable(db, target.week);
  await db.transaction().execute(async (trx) => {
    await trx
      .deleteFrom('issue_overrides')
      .where('week', '=', target.week)
      .where('story_id', '=', target.storyId)
      .where('kind', 'in', ['pin', 'drop'])
      .where((eb) =>
        target.segmentId === null ? eb('segment_id', 'is', null) : eb('segment_id', '=', target.segmentId),
      )
      .execute();
    await trx
      .insertInto('issue_overrides')
      .values({ week: target.week, story_id: target.storyId, segment_id: target.segmentId, ...override })
      .execute();
  });
}

/**
 * Pins a story (always in, at a 0-based position; null = first) for a segment or everywhere, replacing
 * an earlier pin or drop of the same story and scope. Throws IssueStateError once the issue is not a draft.
 */
export async function pinStory(db: Db, target: Target & { position: number | null }): Promise<void> {
  await replacePlacement(db, target, { kind: 'pin', position: target.position });
}

/** Drops a story (and so its event) for a segment or everywhere, replacing a pin of the same scope. */
export async function dropStory(db: Db, target: Target): Promise<void> {
  await replacePlacement(db, target, { kind: 'drop', position: null });
}

/** Adds `boost` to a story's score for a segment or everywhere; a second boost of the same scope replaces the first. */
export async function boostStory(db: Db, target: Target & { boost: number }): Promise<void> {
  await assertIssueEditable(db, target.week);
  await db
    .insertInto('issue_overrides')
    .values({
      week: target.week,
      story_id: target.storyId,
      segment_id: target.segmentId,
      kind: 'boost',
      boost: target.boost,
    })
    .onConflict((oc) =>
      oc.columns(['week', 'segment_id', 'story_id', 'kind']).doUpdateSet({ boost: target.boost }),
    )
    .execute();
}

/** Removes a week's overrides: all, or those of one story (and scope, when segmentId is given). Returns how many. */
export async function clearOverrides(
  db: Db,
  filter: { week: string; storyId?: string; segmentId?: number | null },
): Promise<number> {
  await assertIssueEditable(db, filter.week);
  let query = db.deleteFrom('issue_overrides').where('week', '=', filter.week);
  if (filter.storyId !== undefined) query = query.where('story_id', '=', filter.storyId);
  if (filter.segmentId !== undefined) {
    const segmentId = filter.segmentId;
    query = query.where((eb) =>
      segmentId === null ? eb('segment_id', 'is', null) : eb('segment_id', '=', segmentId),
    );
  }
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** A week's overrides, oldest first. */
export async function listOverrides(db: Db, week: string): Promise<StoredOverride[]> {
  const rows = await db
    .selectFrom('issue_overrides')
    .selectAll()
    .where('week', '=', week)
    .orderBy('id')
    .execute();
  return rows.map((row) => ({
    id: row.id,
    week: row.week,
    kind: row.kind,
    storyId: row.story_id,
    segmentId: row.segment_id,
    position: row.position,
    boost: row.boost,
    createdAt: row.created_at,
  }));
}
