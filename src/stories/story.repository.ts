import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Db, StoryRow, Tx } from '../db/database.ts';
import { type Segment, segmentSlug } from './segment.ts';
import { RELATED_LIMIT, type Story } from './story.ts';

const CHUNK = 500;

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Creates missing segments by name and returns all of the given names' segments. Idempotent. */
export async function ensureSegments(db: Db | Tx, names: readonly string[]): Promise<Segment[]> {
  const unique = [...new Set(names)];
  if (unique.length === 0) return [];
  await db
    .insertInto('segments')
    .values(unique.map((name) => ({ name, slug: segmentSlug(name) })))
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  return db
    .selectFrom('segments')
    .select(['id', 'name', 'slug'])
    .where('name', 'in', unique)
    .orderBy('id')
    .execute();
}

export async function listSegments(db: Db | Tx): Promise<Segment[]> {
  return db.selectFrom('segments').select(['id', 'name', 'slug']).orderBy('id').execute();
}

/** What an upsert did: new stories, changed ones, and those identical to what was stored. */
export interface UpsertCounts {
  imported: number;
  updated: number;
  unchanged: number;
}

/** The fingerprint of a story as stored: an identical record changes nothing (and is counted unchanged). */
export function storyContentHash(story: Story): string {
  return createHash('sha256').update(JSON.stringify(story)).digest('base64url');
}

/**
 * Inserts or updates stories by id, replacing their takeaways, implications, timeline and segments,
 * all in set-based statements. A story identical to the stored one (same content hash) is left alone;
 * a changed one that had been retracted comes back. Must run in a transaction so a story never appears
 * half-written. Ids must be unique within `stories`.
 */
// Long: one set-based upsert of stories and their parts, statement after statement in one transaction.
export async function upsertStories(trx: Tx, stories: readonly Story[]): Promise<UpsertCounts> {
  const counts: UpsertCounts = { imported: 0, updated: 0, unchanged: 0 };
  if (stories.length === 0) return counts;
  const segments = await ensureSegments(
    trx,
    stories.flatMap((s) => s.audiences),
  );
  const segmentId = new Map(segments.map((s) => [s.name, s.id]));
  for (const all of chunks(stories)) {
    const written = await insertStoryRows(trx, all);
    const inserted = new Set<string>();
    const changed = new Set<string>();
    for (const row of written) {
      changed.add(row.id);
      if (row.inserted) inserted.add(row.id);
    }
    counts.imported += inserted.size;
    counts.updated += written.length - inserted.size;
    counts.unchanged += all.length - written.length;
    const batch = all.filter((s) => changed.has(s.id));
    if (batch.length === 0) continue;
    // A story just inserted has no parts yet: only the updated ones need theirs cleared.
    const updatedIds = batch.filter((s) => !inserted.has(s.id)).map((s) => s.id);
    if (updatedIds.length > 0) {
      for (const table of [
        'story_takeaways',
        'story_implications',
        'story_timeline_events',
        'story_segments',
      ] as const) {
        await trx.deleteFrom(table).where('story_id', 'in', updatedIds).execute();
      }
    }
    await insertStoryParts(trx, batch, segmentId);
  }
  return counts;
}

/**
 * Inserts the stories whose ids are not stored yet; stored ones (edited, retracted or not) are left
 * exactly as they are. Returns how many were inserted. Must run in a transaction.
 */
export async function insertMissingStories(trx: Tx, stories: readonly Story[]): Promise<number> {
  const stored = new Set<string>();
  for (const batch of chunks(stories)) {
    const rows = await trx
      .selectFrom('stories')
      .select('id')
      .where(
        'id',
        'in',
        batch.map((s) => s.id),
      )
      .execute();
    for (const row of rows) stored.add(row.id);
  }
  const missing = stories.filter((s) => !stored.has(s.id));
  return (await upsertStories(trx, missing)).imported;
}

/**
 * The rows of a json parameter. A lone surrogate (JSON.stringify writes it as an escape such as
 * `\ud800`) becomes U+FFFD, as it did when each value was a text parameter encoded as UTF-8:
 * PostgreSQL refuses it in json.
 */
export function jsonParameter(rows: unknown): string {
  const json = JSON.stringify(rows);
  return json.includes('\\ud') ? json.replace(LONE_SURROGATE_ESCAPE, '$1\\ufffd') : json;
}

/** `\udXXX` (a surrogate: only a lone one is escaped) not itself behind an escaped backslash. */
const LONE_SURROGATE_ESCAPE = /(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g;

/**
 * Inserts or updates one chunk of stories in one statement whose rows arrive as one JSON document
 * (json_to_recordset), not one parameter per cell: serialising a batch then makes little garbage, which
 * keeps a long import's memory flat. Returns the rows written (new or changed) and whether each was new.
 */
async function insertStoryRows(
  trx: Tx,
  stories: readonly Story[],
): Promise<Array<{ id: string; inserted: boolean }>> {
  const rows = stories.map((s) => ({
    id: s.id,
    title: s.title,
    hook: s.hook ?? null,
    url: s.url,
    canonical_url: s.canonicalUrl,
    source_name: s.source.name,
    source_url: s.source.url,
    region: s.region,
    published_at: s.publishedAt,
    collected_at: s.collectedAt,
    tldr_what_changed: s.tldr.whatChanged,
    tldr_why_it_matters: s.tldr.whyItMatters,
    tldr_what_to_do_next: s.tldr.whatToDoNext,
    related: s.related,
    content_hash: storyContentHash(s),
  }));
  return trx
    .insertInto('stories')
    .columns([
      'id',
      'title',
      'hook',
      'url',
      'canonical_url',
      'source_name',
      'source_url',
      'region',
      'published_at',
      'collected_at',
      'tldr_what_changed',
      'tldr_why_it_matters',
      'tldr_what_to_do_next',
      'related',
      'content_hash',
    ])
    .expression(
      sql`SELECT * FROM json_to_recordset(${jsonParameter(rows)}::json) AS r(
        id text, title text, hook text, url text, canonical_url text, source_name text, source_url text,
        region text, published_at timestamptz, collected_at timestamptz, tldr_what_changed text,
        tldr_why_it_matters text, tldr_what_to_do_next text, related jsonb, content_hash text
      )`,
    )
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet((eb) => ({
          title: eb.ref('excluded.title'),
          hook: eb.ref('excluded.hook'),
          url: eb.ref('excluded.url'),
          canonical_url: eb.ref('excluded.canonical_url'),
          source_name: eb.ref('excluded.source_name'),
          source_url: eb.ref('excluded.source_url'),
          region: eb.ref('excluded.region'),
          published_at: eb.ref('excluded.published_at'),
          collected_at: eb.ref('excluded.collected_at'),
          tldr_what_changed: eb.ref('excluded.tldr_what_changed'),
          tldr_why_it_matters: eb.ref('excluded.tldr_why_it_matters'),
          tldr_what_to_do_next: eb.ref('excluded.tldr_what_to_do_next'),
          related: eb.ref('excluded.related'),
          content_hash: eb.ref('excluded.content_hash'),
          retracted_at: null,
          updated_at: sql`now()`,
        }))
        .where(sql<boolean>`stories.content_hash IS DISTINCT FROM excluded.content_hash`),
    )
    .returning(['id', sql<boolean>`xmax = 0`.as('inserted')])
    .execute();
}

/** Writes the takeaways, implications, timeline and segment tags of stories, each table's rows as one JSON document. */
async function insertStoryParts(
  trx: Tx,
  stories: readonly Story[],
  segmentId: ReadonlyMap<string, number>,
): Promise<void> {
  const takeaways = stories.flatMap((s) =>
    s.keyTakeaways.map((text, position) => ({ story_id: s.id, position, text })),
  );
  const implications = stories.flatMap((s) =>
    s.implications.map((i, position) => ({
      story_id: s.id,
      position,
      prediction: i.prediction,
      rationale: i.rationale,
    })),
  );
  const timeline = stories.flatMap((s) =>
    s.timeline.map((t, position) => ({ story_id: s.id, position, date: t.date, event: t.event })),
  );
  const tags = stories.flatMap((s) =>
    s.audiences.map((name) => ({ story_id: s.id, segment_id: segmentId.get(name) as number })),
  );
  if (takeaways.length > 0)
    await sql`INSERT INTO story_takeaways (story_id, position, text)
      SELECT * FROM json_to_recordset(${jsonParameter(takeaways)}::json)
        AS r(story_id text, position int, text text)`.execute(trx);
  if (implications.length > 0)
    await sql`INSERT INTO story_implications (story_id, position, prediction, rationale)
      SELECT * FROM json_to_recordset(${jsonParameter(implications)}::json)
        AS r(story_id text, position int, prediction text, rationale text)`.execute(trx);
  if (timeline.length > 0)
    await sql`INSERT INTO story_timeline_events (story_id, position, date, event)
      SELECT * FROM json_to_recordset(${jsonParameter(timeline)}::json)
        AS r(story_id text, position int, date text, event text)`.execute(trx);
  if (tags.length > 0)
    await sql`INSERT INTO story_segments (story_id, segment_id)
      SELECT * FROM json_to_recordset(${jsonParameter(tags)}::json) AS r(story_id text, segment_id int)`.execute(
      trx,
    );
}

/**
 * Marks stories as retracted (withdrawn by their publisher). Returns the ids newly retracted; unknown
 * or already retracted ids are left alone. The caller takes them out of the issues not yet sent.
 */
export async function retractStories(trx: Tx, ids: readonly string[], now: Date): Promise<string[]> {
  const out: string[] = [];
  for (const batch of chunks(ids)) {
    const rows = await trx
      .updateTable('stories')
      .set({ retracted_at: now })
      .where('id', 'in', batch)
      .where('retracted_at', 'is', null)
      .returning('id')
      .execute();
    out.push(...rows.map((row) => row.id));
  }
  return out;
}

export function storyRowToStory(
  row: StoryRow,
  parts: Pick<Story, 'audiences' | 'keyTakeaways' | 'implications' | 'timeline'>,
): Story {
  return {
    id: row.id,
    title: row.title,
    hook: row.hook,
    url: row.url,
    canonicalUrl: row.canonical_url,
    source: { name: row.source_name, url: row.source_url },
    region: row.region,
    publishedAt: row.published_at,
    collectedAt: row.collected_at,
    audiences: parts.audiences,
    tldr: {
      whatChanged: row.tldr_what_changed,
      whyItMatters: row.tldr_why_it_matters,
      whatToDoNext: row.tldr_what_to_do_next,
    },
    keyTakeaways: parts.keyTakeaways,
    implications: parts.implications,
    timeline: parts.timeline,
    // Stories stored before the cap may hold more: they keep their first ones.
    related: (row.related ?? []).slice(0, RELATED_LIMIT),
  };
}

/** Loads whole stories with all their parts, in five queries whatever the number. Order follows `ids`. */
export async function loadStoriesByIds(db: Db | Tx, ids: readonly string[]): Promise<Story[]> {
  if (ids.length === 0) return [];
  const all = [...new Set(ids)];
  const rows: StoryRow[] = [];
  const takeaways: { story_id: string; position: number; text: string }[] = [];
  const implications: { story_id: string; position: number; prediction: string; rationale: string | null }[] =
    [];
  const timeline: { story_id: string; position: number; date: string; event: string }[] = [];
  const audiences: { story_id: string; name: string }[] = [];
  for (const batch of chunks(all, 5000)) {
    rows.push(...(await db.selectFrom('stories').selectAll().where('id', 'in', batch).execute()));
    takeaways.push(
      ...(await db
        .selectFrom('story_takeaways')
        .selectAll()
        .where('story_id', 'in', batch)
        .orderBy('position')
        .execute()),
    );
    implications.push(
      ...(await db
        .selectFrom('story_implications')
        .selectAll()
        .where('story_id', 'in', batch)
        .orderBy('position')
        .execute()),
    );
    timeline.push(
      ...(await db
        .selectFrom('story_timeline_events')
        .selectAll()
        .where('story_id', 'in', batch)
        .orderBy('position')
        .execute()),
    );
    audiences.push(
      ...(await db
        .selectFrom('story_segments')
        .innerJoin('segments', 'segments.id', 'story_segments.segment_id')
        .select(['story_segments.story_id', 'segments.name'])
        .where('story_segments.story_id', 'in', batch)
        .orderBy('segments.id')
        .execute()),
    );
  }
  const group = <T extends { story_id: string }>(items: T[]) => {
    const map = new Map<string, T[]>();
    for (const item of items) map.set(item.story_id, [...(map.get(item.story_id) ?? []), item]);
    return map;
  };
  const byTakeaway = group(takeaways);
  const byImplication = group(implications);
  const byTimeline = group(timeline);
  const byAudience = group(audiences);
  const byId = new Map(
    rows.map((row) => [
      row.id,
      storyRowToStory(row, {
        audiences: (byAudience.get(row.id) ?? []).map((a) => a.name),
        keyTakeaways: (byTakeaway.get(row.id) ?? []).map((t) => t.text),
        implications: (byImplication.get(row.id) ?? []).map((i) => ({
          prediction: i.prediction,
          rationale: i.rationale,
        })),
        timeline: (byTimeline.get(row.id) ?? []).map((t) => ({ date: t.date, event: t.event })),
      }),
    ]),
  );
  return all.flatMap((id) => byId.get(id) ?? []);
}

/** Stories whose time (published, else collected) lies in [from, to). */
export async function loadStoriesBetween(db: Db | Tx, from: Date, to: Date): Promise<Story[]> {
  const ids = await db
    .selectFrom('stories')
    .select('id')
    .where(sql`coalesce(published_at, collected_at)`, '>=', from)
    .where(sql`coalesce(published_at, collected_at)`, '<', to)
    .where('retracted_at', 'is', null)
    .orderBy('id')
    .execute();
  return loadStoriesByIds(
    db,
    ids.map((r) => r.id),
  );
}

/**
 * Fills in the title and link of related entries that name only a story id, from stored stories (one
 * query for all); an id that names no stored story is left out. Entries with a link stay as given.
 * Returns new story objects; the input is not changed.
 */
export async function resolveRelatedStories(db: Db | Tx, stories: readonly Story[]): Promise<Story[]> {
  const wanted = [
    ...new Set(
      stories.flatMap((story) => story.related.filter((r) => !r.url && r.id).map((r) => r.id as string)),
    ),
  ];
  const rows =
    wanted.length > 0
      ? await db.selectFrom('stories').select(['id', 'title', 'url']).where('id', 'in', wanted).execute()
      : [];
  const byId = new Map(rows.map((row) => [row.id, row]));
  return stories.map((story) => {
    if (!story.related.some((r) => !r.url)) return story;
    const related = story.related.flatMap((entry) => {
      if (entry.url) return [entry];
      const found = entry.id ? byId.get(entry.id) : undefined;
      return found ? [{ id: found.id, title: entry.title ?? found.title, url: found.url }] : [];
    });
    return { ...story, related };
  });
}

/** A story's id and title, or undefined when there is no such story. */
export async function findStory(db: Db | Tx, id: string): Promise<{ id: string; title: string } | undefined> {
  return db.selectFrom('stories').select(['id', 'title']).where('id', '=', id).executeTakeFirst();
}

/** The source name of each of these stories that exists, by id. */
export async function sourceNamesOf(db: Db | Tx, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('stories')
    .select(['id', 'source_name'])
    .where('id', 'in', [...ids])
    .execute();
  return new Map(rows.map((row) => [row.id, row.source_name]));
}
