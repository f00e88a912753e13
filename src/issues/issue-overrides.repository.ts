import type { ExpressionBuilder } from 'kysely';
import type { Database, Db, OverrideChannel } from '../db/database.ts';
import type { SelectionOverride } from '../selection/selection.ts';
import { assertIssueEditable } from './issue.repository.ts';

export type { OverrideChannel } from '../db/database.ts';

export interface StoredOverride extends SelectionOverride {
  id: number;
  week: string;
  createdAt: Date;
  /** Where it was made; null for overrides older than the record ("unknown"). */
  createdBy: OverrideChannel | null;
}

interface Target {
  week: string;
  storyId: string;
  /** null: every segment. */
  segmentId: number | null;
  /** Where the override is made: the web editor or the CLI (absent: recorded as unknown). */
  createdBy?: OverrideChannel;
}

/** Rows of one story and scope (segment, or every segment). */
function sameScope(target: Target) {
  return (eb: ExpressionBuilder<Database, 'issue_overrides'>) =>
    target.segmentId === null ? eb('segment_id', 'is', null) : eb('segment_id', '=', target.segmentId);
}

/**
 * Pins a story (always in, at a 0-based position; null = first) for a segment or everywhere, replacing
 * an earlier pin or drop of the same story and scope. Returns the new override's id (for Undo). Throws
 * IssueStateError once the issue is not a draft.
 */
export async function pinStory(db: Db, target: Target & { position: number | null }): Promise<number> {
  await assertIssueEditable(db, target.week);
  return db.transaction().execute(async (trx) => {
    await trx
      .deleteFrom('issue_overrides')
      .where('week', '=', target.week)
      .where('story_id', '=', target.storyId)
      .where('kind', 'in', ['pin', 'drop'])
      .where(sameScope(target))
      .execute();
    const row = await trx
      .insertInto('issue_overrides')
      .values({
        week: target.week,
        story_id: target.storyId,
        segment_id: target.segmentId,
        kind: 'pin',
        position: target.position,
        created_by: target.createdBy ?? null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  });
}

/**
 * Drops a story (and so its event) for a segment or everywhere. A pin of the same scope stays stored
 * (a drop outranks it in the selection), so undoing the drop returns the story to its pinned place.
 * The drop keeps the 0-based place the story held (`heldAt`, else its pin's place): pinned again, it
 * goes back there. Returns the new override's id.
 */
export async function dropStory(db: Db, target: Target & { heldAt?: number | null }): Promise<number> {
  await assertIssueEditable(db, target.week);
  return db.transaction().execute(async (trx) => {
    const pin = await trx
      .selectFrom('issue_overrides')
      .select('position')
      .where('week', '=', target.week)
      .where('story_id', '=', target.storyId)
      .where('kind', '=', 'pin')
      .where(sameScope(target))
      .executeTakeFirst();
    await trx
      .deleteFrom('issue_overrides')
      .where('week', '=', target.week)
      .where('story_id', '=', target.storyId)
      .where('kind', '=', 'drop')
      .where(sameScope(target))
      .execute();
    const row = await trx
      .insertInto('issue_overrides')
      .values({
        week: target.week,
        story_id: target.storyId,
        segment_id: target.segmentId,
        kind: 'drop',
        position: pin ? pin.position : (target.heldAt ?? null),
        created_by: target.createdBy ?? null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  });
}

/** Adds `boost` to a story's score for a segment or everywhere; a second boost of the same scope replaces the first. */
export async function boostStory(db: Db, target: Target & { boost: number }): Promise<number> {
  await assertIssueEditable(db, target.week);
  const row = await db
    .insertInto('issue_overrides')
    .values({
      week: target.week,
      story_id: target.storyId,
      segment_id: target.segmentId,
      kind: 'boost',
      boost: target.boost,
      created_by: target.createdBy ?? null,
    })
    .onConflict((oc) =>
      oc
        .columns(['week', 'segment_id', 'story_id', 'kind'])
        .doUpdateSet({ boost: target.boost, created_by: target.createdBy ?? null, created_at: new Date() }),
    )
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
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

/**
 * Undoes one override of the week (by id): removes it. Undoing a drop lets a pin it outranked apply
 * again. Returns the removed override, or null when the week has no such override (already undone).
 */
export async function undoOverride(db: Db, week: string, id: number): Promise<StoredOverride | null> {
  await assertIssueEditable(db, week);
  const row = await db
    .deleteFrom('issue_overrides')
    .where('week', '=', week)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row ? storedOverride(row) : null;
}

/** A week's overrides, oldest first. */
export async function listOverrides(db: Db, week: string): Promise<StoredOverride[]> {
  const rows = await db
    .selectFrom('issue_overrides')
    .selectAll()
    .where('week', '=', week)
    .orderBy('id')
    .execute();
  return rows.map(storedOverride);
}

function storedOverride(row: {
  id: number;
  week: string;
  kind: SelectionOverride['kind'];
  story_id: string;
  segment_id: number | null;
  position: number | null;
  boost: number | null;
  created_at: Date;
  created_by: OverrideChannel | null;
}): StoredOverride {
  return {
    id: row.id,
    week: row.week,
    kind: row.kind,
    storyId: row.story_id,
    segmentId: row.segment_id,
    position: row.position,
    boost: row.boost,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}
