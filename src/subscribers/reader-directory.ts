import { type ExpressionBuilder, type SelectQueryBuilder, sql } from 'kysely';
import type { Database, Db, SubscriberStatus } from '../db/database.ts';

/** The statuses a reader can have (the erased placeholders are never listed). */
export const READER_STATUSES = [
  'active',
  'pending',
  'unsubscribed',
  'bounced',
  'complained',
  'sunset',
] as const satisfies readonly SubscriberStatus[];
export type ReaderStatus = (typeof READER_STATUSES)[number];

/** Shorter searches cannot use the trigram index (every address would be read): they are refused. */
export const MIN_SEARCH_LENGTH = 3;

/** Who the Readers page lists: a search text and the filters, each null when not applied. */
export interface ReaderFilter {
  /** Part of the address or the name, as typed (at least MIN_SEARCH_LENGTH characters). */
  search: string | null;
  segmentId: number | null;
  status: ReaderStatus | null;
  tracked: boolean | null;
  /** 'asked': mailed "still want the recap?" and not answered yet; 'paused': paused for inactivity. */
  sunset: 'asked' | 'paused' | null;
}

export const noFilter: ReaderFilter = {
  search: null,
  segmentId: null,
  status: null,
  tracked: null,
  sunset: null,
};

/** A page of the list: newest first, after or before a reader's id (keyset, never OFFSET). */
export type ReaderCursor = { after: string } | { before: string } | null;

export interface ReaderRow {
  id: string;
  email: string;
  name: string | null;
  timeZone: string | null;
  status: SubscriberStatus;
  trackingEnabled: boolean;
  pausedUntil: Date | null;
  createdAt: Date;
  reengagementSentAt: Date | null;
  /** Names of the followed segments, in segment order. */
  segments: string[];
}

export interface ReaderPage {
  rows: ReaderRow[];
  /** The id to continue after (older readers), or null on the last page. */
  nextAfter: string | null;
  /** The id to go back before (newer readers), or null on the first page. */
  previousBefore: string | null;
}

/** What a search matches: the address and the name, lower-cased, as the trigram index holds them. */
const searchText = sql<string>`lower(subscribers.email || ' ' || coalesce(subscribers.name, ''))`;

/**
 * A search first looks at this many of the newest readers (in page order, by the primary key): a
 * common term fills its page there at once. Only a rarer one goes to the trigram index. PostgreSQL
 * cannot estimate how many rows `LIKE '%…%'` matches, and its guess (1 %) picks the ordered scan for
 * rare terms too, which then reads the whole list (0.25–0.5 s at a million readers).
 */
const SEARCH_WINDOW = 4000;

/** `%text%` for ILIKE, with the pattern characters of the text taken literally. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function filtered<O>(
  query: SelectQueryBuilder<Database, 'subscribers', O>,
  filter: ReaderFilter,
): SelectQueryBuilder<Database, 'subscribers', O> {
  let q = query.where('subscribers.status', '<>', 'erased');
  if (filter.search !== null)
    q = q.where(searchText, 'like', sql<string>`lower(${containsPattern(filter.search)})`);
  if (filter.status !== null) q = q.where('subscribers.status', '=', filter.status);
  if (filter.tracked !== null) q = q.where('subscribers.tracking_enabled', '=', filter.tracked);
  if (filter.sunset === 'paused') q = q.where('subscribers.status', '=', 'sunset');
  if (filter.sunset === 'asked')
    q = q
      .where('subscribers.reengagement_sent_at', 'is not', null)
      .where('subscribers.status', '=', 'active');
  const segmentId = filter.segmentId;
  if (segmentId !== null)
    q = q.where((eb: ExpressionBuilder<Database, 'subscribers'>) =>
      eb.exists(
        eb
          .selectFrom('subscriptions')
          .select(sql`1`.as('one'))
          .whereRef('subscriptions.subscriber_id', '=', 'subscribers.id')
          .where('subscriptions.segment_id', '=', segmentId),
      ),
    );
  return q;
}

/** Segment names per subscriber id, one query. */
async function segmentNamesOf(db: Db, ids: readonly string[]): Promise<Map<string, string[]>> {
  const names = new Map<string, string[]>();
  if (ids.length === 0) return names;
  const rows = await db
    .selectFrom('subscriptions')
    .innerJoin('segments', 'segments.id', 'subscriptions.segment_id')
    .select(['subscriptions.subscriber_id', 'segments.name'])
    .where('subscriptions.subscriber_id', 'in', ids)
    .orderBy('segments.id')
    .execute();
  for (const row of rows) names.set(row.subscriber_id, [...(names.get(row.subscriber_id) ?? []), row.name]);
  return names;
}

const rowColumns = [
  'subscribers.id',
  'subscribers.email',
  'subscribers.name',
  'subscribers.time_zone',
  'subscribers.status',
  'subscribers.tracking_enabled',
  'subscribers.paused_until',
  'subscribers.created_at',
  'subscribers.reengagement_sent_at',
] as const;

/** A row as rowColumns selects it. */
interface SelectedRow {
  id: string;
  email: string;
  name: string | null;
  time_zone: string | null;
  status: SubscriberStatus;
  tracking_enabled: boolean;
  paused_until: Date | null;
  created_at: Date;
  reengagement_sent_at: Date | null;
}

/**
 * One page of readers matching the filter, newest first, `limit` at most, after or before a cursor.
 * Keyset on the primary key, so page 1,000 costs what page 1 does. Read only.
 */
export async function listReaders(
  db: Db,
  filter: ReaderFilter,
  cursor: ReaderCursor,
  limit: number,
): Promise<ReaderPage> {
  const backwards = cursor !== null && 'before' in cursor;
  const direction = backwards ? 'asc' : 'desc';
  const page = <O>(query: SelectQueryBuilder<Database, 'subscribers', O>) => {
    let q = filtered(query, filter);
    if (cursor && 'after' in cursor) q = q.where('subscribers.id', '<', cursor.after);
    if (cursor && 'before' in cursor) q = q.where('subscribers.id', '>', cursor.before);
    return q;
  };
  let found: SelectedRow[] = [];
  if (filter.search !== null) {
    // The newest SEARCH_WINDOW readers past the cursor, as a derived table of the same name: PostgreSQL
    // cannot flatten a subquery with a LIMIT, so it reads that window in key order and filters it.
    const newest = db
      .selectFrom('subscribers')
      .selectAll()
      .$if(cursor !== null && 'after' in cursor, (q) =>
        q.where('id', '<', (cursor as { after: string }).after),
      )
      .$if(backwards, (q) => q.where('id', '>', (cursor as { before: string }).before))
      .orderBy('id', direction)
      .limit(SEARCH_WINDOW)
      .as('subscribers');
    found = await filtered(
      db.selectFrom(newest).select(rowColumns) as unknown as SelectQueryBuilder<
        Database,
        'subscribers',
        SelectedRow
      >,
      filter,
    )
      .orderBy('subscribers.id', direction)
      .limit(limit + 1)
      .execute();
  }
  if (filter.search === null) {
    found = await page(db.selectFrom('subscribers').select(rowColumns))
      .orderBy('subscribers.id', direction)
      .limit(limit + 1)
      .execute();
  } else if (found.length <= limit) {
    // Not a full page among the newest: a rarer term, which the trigram index finds (the order by an
    // expression keeps the planner off the primary key's ordered scan through the whole list).
    found = await page(db.selectFrom('subscribers').select(rowColumns))
      .orderBy(sql`subscribers.id + 0`, direction)
      .limit(limit + 1)
      .execute();
  }
  const more = found.length > limit;
  const shown = found.slice(0, limit);
  if (backwards) shown.reverse();
  const segments = await segmentNamesOf(
    db,
    shown.map((r) => r.id),
  );
  const rows = shown.map((r) => ({
    id: r.id,
    email: r.email,
    name: r.name,
    timeZone: r.time_zone,
    status: r.status,
    trackingEnabled: r.tracking_enabled,
    pausedUntil: r.paused_until,
    createdAt: r.created_at,
    reengagementSentAt: r.reengagement_sent_at,
    segments: segments.get(r.id) ?? [],
  }));
  const first = rows[0]?.id ?? null;
  const last = rows[rows.length - 1]?.id ?? null;
  return {
    rows,
    nextAfter: (backwards ? cursor !== null : more) ? last : null,
    previousBefore: (backwards ? more : cursor !== null) ? first : null,
  };
}

/** How many readers match, counted up to `cap` (a broad search over a million stops there). */
export async function countMatchingReaders(
  db: Db,
  filter: ReaderFilter,
  cap: number,
): Promise<{ count: number; capped: boolean }> {
  const row = await db
    .selectFrom(
      filtered(db.selectFrom('subscribers').select('subscribers.id'), filter)
        .limit(cap + 1)
        .as('matches'),
    )
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  const count = Number(row.n);
  return { count: Math.min(count, cap), capped: count > cap };
}

/** Readers per status over the whole list (erased placeholders left out). */
export async function countReadersByStatus(db: Db): Promise<Record<ReaderStatus, number>> {
  const rows = await db
    .selectFrom('subscribers')
    .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
    .where('status', '<>', 'erased')
    .groupBy('status')
    .execute();
  const counts = Object.fromEntries(READER_STATUSES.map((s) => [s, 0])) as Record<ReaderStatus, number>;
  for (const row of rows) if (row.status !== 'erased') counts[row.status] = Number(row.n);
  return counts;
}

/**
 * Every reader matching the filter, newest first, in keyset batches: memory holds one batch whatever the
 * list's size. For the CSV export.
 */
export async function* readersMatching(
  db: Db,
  filter: ReaderFilter,
  batch = 2000,
): AsyncGenerator<ReaderRow> {
  let cursor: ReaderCursor = null;
  for (;;) {
    const page = await listReaders(db, filter, cursor, batch);
    yield* page.rows;
    if (page.nextAfter === null) return;
    cursor = { after: page.nextAfter };
  }
}
