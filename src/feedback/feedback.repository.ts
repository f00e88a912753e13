import { sql } from 'kysely';
import type { Db, SubscriberStatus } from '../db/database.ts';
import type { IssueRating, StoryVoteChoice } from '../tracking/token.ts';

const MAX_BIGINT = 2n ** 63n - 1n;
const MAX_INT = 2 ** 31 - 1;

/** What a feedback link is about: the issue, and for a story vote the story its link position names. */
export interface FeedbackTarget {
  issueId: number;
  week: string;
  /** Null for an issue rating. */
  story: { id: string; title: string } | null;
  /** The reader behind the token; null when no such subscriber is left (erased). */
  reader: { status: SubscriberStatus } | null;
  /** The reader's answer on record (a story vote or the issue rating), null when none. */
  current: StoryVoteChoice | IssueRating | null;
}

/**
 * The issue, story and reader a verified feedback token names, with the reader's current answer; null
 * when the issue is gone or, for a story vote, the position is not a story's own link in the issue's
 * registry. One query. Never writes.
 */
export async function findFeedbackTarget(
  db: Db,
  token: { subscriberId: string; issueId: number; link: number | null },
): Promise<FeedbackTarget | null> {
  const { subscriberId, issueId, link } = token;
  // Ids the columns (bigint, integer) cannot hold name nothing: answered as unknown, never a query error.
  if (BigInt(subscriberId) > MAX_BIGINT || issueId > MAX_INT || (link ?? 0) > MAX_INT) return null;
  const row = await sql<{
    week: string;
    story_id: string | null;
    story_title: string | null;
    status: SubscriberStatus | null;
    vote: number | null;
    rating: number | null;
  }>`
    SELECT i.week, l.story_id, coalesce(s.title, l.url) AS story_title, sub.status,
      (SELECT v.vote FROM story_votes v WHERE v.subscriber_id = ${subscriberId} AND v.story_id = l.story_id) AS vote,
      (SELECT r.rating FROM issue_ratings r WHERE r.subscriber_id = ${subscriberId} AND r.issue_id = i.id) AS rating
    FROM issues i
    LEFT JOIN issue_links l ON l.issue_id = i.id AND l.position = ${link ?? -1} AND l.kind = 'story'
    LEFT JOIN stories s ON s.id = l.story_id
    LEFT JOIN subscribers sub ON sub.id = ${subscriberId}
    WHERE i.id = ${issueId}`.execute(db);
  const found = row.rows[0];
  if (!found) return null;
  if (link !== null && found.story_id === null) return null;
  const story = link === null ? null : { id: found.story_id as string, title: found.story_title ?? '' };
  const current =
    link === null
      ? found.rating === null
        ? null
        : (Number(found.rating) as IssueRating)
      : found.vote === null
        ? null
        : Number(found.vote) > 0
          ? 'more'
          : 'less';
  return {
    issueId,
    week: found.week,
    story,
    reader: found.status ? { status: found.status } : null,
    current,
  };
}

/**
 * Records a reader's "more" (+1) or "less" (-1) for a story: one vote per reader and story, a second
 * answer replaces the first (its updated_at moves, the issue it was first cast from is kept). Idempotent.
 */
export async function saveStoryVote(
  db: Db,
  vote: { subscriberId: string; storyId: string; issueId: number; choice: StoryVoteChoice; now: Date },
): Promise<void> {
  await db
    .insertInto('story_votes')
    .values({
      subscriber_id: vote.subscriberId,
      story_id: vote.storyId,
      issue_id: vote.issueId,
      vote: vote.choice === 'more' ? 1 : -1,
      created_at: vote.now,
      updated_at: vote.now,
    })
    .onConflict((oc) =>
      oc.columns(['subscriber_id', 'story_id']).doUpdateSet((eb) => ({
        vote: eb.ref('excluded.vote'),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .execute();
}

/** Records a reader's rating of an issue (1 not useful, 2 OK, 3 great); a second answer replaces the first. */
export async function saveIssueRating(
  db: Db,
  rating: { subscriberId: string; issueId: number; rating: IssueRating; now: Date },
): Promise<void> {
  await db
    .insertInto('issue_ratings')
    .values({
      issue_id: rating.issueId,
      subscriber_id: rating.subscriberId,
      rating: rating.rating,
      created_at: rating.now,
      updated_at: rating.now,
    })
    .onConflict((oc) =>
      oc.columns(['issue_id', 'subscriber_id']).doUpdateSet((eb) => ({
        rating: eb.ref('excluded.rating'),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .execute();
}

/** A reader's votes and ratings, for the export of everything stored about them. */
export async function exportReaderFeedback(
  db: Db,
  subscriberId: string,
): Promise<{ story_votes: Array<Record<string, unknown>>; issue_ratings: Array<Record<string, unknown>> }> {
  const [votes, ratings] = await Promise.all([
    db
      .selectFrom('story_votes')
      .innerJoin('issues', 'issues.id', 'story_votes.issue_id')
      .select([
        'story_votes.story_id',
        'issues.week',
        'story_votes.vote',
        'story_votes.created_at',
        'story_votes.updated_at',
      ])
      .where('story_votes.subscriber_id', '=', subscriberId)
      .orderBy('story_votes.created_at')
      .execute(),
    db
      .selectFrom('issue_ratings')
      .innerJoin('issues', 'issues.id', 'issue_ratings.issue_id')
      .select(['issues.week', 'issue_ratings.rating', 'issue_ratings.created_at', 'issue_ratings.updated_at'])
      .where('issue_ratings.subscriber_id', '=', subscriberId)
      .orderBy('issue_ratings.created_at')
      .execute(),
  ]);
  return { story_votes: votes.map((row) => ({ ...row })), issue_ratings: ratings.map((row) => ({ ...row })) };
}

/** One reader's answers, newest first, as the editor's page for the reader lists them. */
export interface ReaderFeedback {
  votes: Array<{ week: string; storyId: string; title: string | null; choice: StoryVoteChoice; at: Date }>;
  ratings: Array<{ week: string; rating: IssueRating; at: Date }>;
}

/** The reader's last `limit` votes and ratings (their latest answer each), newest first. */
export async function loadReaderFeedback(db: Db, subscriberId: string, limit = 60): Promise<ReaderFeedback> {
  const [votes, ratings] = await Promise.all([
    db
      .selectFrom('story_votes')
      .innerJoin('issues', 'issues.id', 'story_votes.issue_id')
      .leftJoin('stories', 'stories.id', 'story_votes.story_id')
      .select([
        'issues.week',
        'story_votes.story_id',
        'stories.title',
        'story_votes.vote',
        'story_votes.updated_at',
      ])
      .where('story_votes.subscriber_id', '=', subscriberId)
      .orderBy('story_votes.updated_at', 'desc')
      .limit(limit)
      .execute(),
    db
      .selectFrom('issue_ratings')
      .innerJoin('issues', 'issues.id', 'issue_ratings.issue_id')
      .select(['issues.week', 'issue_ratings.rating', 'issue_ratings.updated_at'])
      .where('issue_ratings.subscriber_id', '=', subscriberId)
      .orderBy('issue_ratings.updated_at', 'desc')
      .limit(limit)
      .execute(),
  ]);
  return {
    votes: votes.map((row) => ({
      week: row.week,
      storyId: row.story_id,
      title: row.title,
      choice: row.vote > 0 ? 'more' : 'less',
      at: row.updated_at,
    })),
    ratings: ratings.map((row) => ({ week: row.week, rating: row.rating, at: row.updated_at })),
  };
}

/** Votes on one story of an issue. */
export interface StoryVoteCount {
  storyId: string;
  title: string | null;
  more: number;
  less: number;
}

/** Ratings of an issue by the readers of one segment set. */
export interface SegmentRating {
  segmentKey: string;
  /** Readers who answered 1 (not useful), 2 (OK), 3 (great). */
  counts: [number, number, number];
  answers: number;
  /** Mean of the answers, 1 to 3; null without any. */
  mean: number | null;
}

export interface IssueFeedback {
  /** Stories with at least one vote cast from this issue, most "more" first. */
  votes: StoryVoteCount[];
  /** Per segment set the readers were sent (their delivery's), then all readers together. */
  ratings: SegmentRating[];
  total: SegmentRating;
}

/**
 * Votes per story cast from an issue and its ratings per segment set (the segment set of the reader's
 * delivery of that issue; "(no delivery)" when none is left). Two grouped queries.
 */
export async function loadIssueFeedback(db: Db, issueId: number): Promise<IssueFeedback> {
  const [votes, ratings] = await Promise.all([
    sql<{ story_id: string; title: string | null; more: string; less: string }>`
      SELECT v.story_id, s.title, count(*) FILTER (WHERE v.vote > 0) AS more,
        count(*) FILTER (WHERE v.vote < 0) AS less
      FROM story_votes v LEFT JOIN stories s ON s.id = v.story_id
      WHERE v.issue_id = ${issueId}
      GROUP BY v.story_id, s.title
      ORDER BY more DESC, less, v.story_id`.execute(db),
    sql<{ segment_key: string | null; rating: number; n: string }>`
      SELECT d.segment_key, r.rating, count(*) AS n
      FROM issue_ratings r
      LEFT JOIN deliveries d ON d.issue_id = r.issue_id AND d.subscriber_id = r.subscriber_id
      WHERE r.issue_id = ${issueId}
      GROUP BY d.segment_key, r.rating
      ORDER BY d.segment_key`.execute(db),
  ]);
  const bySet = new Map<string, [number, number, number]>();
  const all: [number, number, number] = [0, 0, 0];
  for (const row of ratings.rows) {
    const key = row.segment_key ?? '(no delivery)';
    const counts = bySet.get(key) ?? [0, 0, 0];
    const index = Number(row.rating) - 1;
    counts[index] = (counts[index] ?? 0) + Number(row.n);
    all[index] = (all[index] ?? 0) + Number(row.n);
    bySet.set(key, counts);
  }
  return {
    votes: votes.rows.map((row) => ({
      storyId: row.story_id,
      title: row.title,
      more: Number(row.more),
      less: Number(row.less),
    })),
    ratings: [...bySet].map(([segmentKey, counts]) => segmentRating(segmentKey, counts)),
    total: segmentRating('all', all),
  };
}

function segmentRating(segmentKey: string, counts: [number, number, number]): SegmentRating {
  const answers = counts[0] + counts[1] + counts[2];
  return {
    segmentKey,
    counts,
    answers,
    mean: answers > 0 ? (counts[0] + 2 * counts[1] + 3 * counts[2]) / answers : null,
  };
}
