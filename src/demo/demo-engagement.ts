import type { Db } from '../db/database.ts';
import { saveIssueRating, saveStoryVote } from '../feedback/feedback.repository.ts';
import type { RawTrackingEvent } from '../tracking/classify-event.ts';
import { writeEvents } from '../tracking/event-writer.ts';

const MINUTE = 60_000;
const readerAgent =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148';
const proxyAgent =
  'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)';

/** A stable number in [0, 1) per subscriber and purpose, so a demo reads the same every time. */
function chance(subscriberId: string, salt: number): number {
  let h = 2166136261 ^ salt;
  for (const c of subscriberId) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return ((h >>> 0) % 10_000) / 10_000;
}

/** Whether the demo's simulated readers have this one vote on a story or rate the issue (see below). */
export function demoReaderAnswers(subscriberId: string): boolean {
  return chance(subscriberId, 1) < 0.5 && (chance(subscriberId, 8) < 0.12 || chance(subscriberId, 10) < 0.1);
}

/**
 * Simulated reader activity for the demo's freshly sent issue, so the dashboard has numbers to show:
 * about half of the readers open (some twice), a tenth more through an image proxy, and one in six
 * clicks a story; of the readers who open, about one in eight says "more like this" about the story they
 * clicked (or "less like this" about another) and one in ten rates the issue, as the feedback pages
 * would record it. Events go through the real classifier and batch insert. Demo only.
 */
export async function simulateDemoEngagement(
  db: Db,
  issueId: number,
): Promise<{ opens: number; clicks: number; votes: number; ratings: number }> {
  const deliveries = await db
    .selectFrom('deliveries')
    .select(['subscriber_id', 'sent_at'])
    .where('issue_id', '=', issueId)
    .where('status', '=', 'sent')
    .execute();
  const links = await db
    .selectFrom('issue_links')
    .select(['position', 'story_id'])
    .where('issue_id', '=', issueId)
    .where('kind', '=', 'story')
    .orderBy('position')
    .execute();
  const events: RawTrackingEvent[] = [];
  const votes: Array<Parameters<typeof saveStoryVote>[1]> = [];
  const ratings: Array<Parameters<typeof saveIssueRating>[1]> = [];
  const base = { issueId, method: 'GET', linksClickedWithinSecond: 1 } as const;
  for (const { subscriber_id: subscriberId, sent_at: sentAt } of deliveries) {
    if (!sentAt) continue;
    const at = (minutes: number) => new Date(sentAt.getTime() + minutes * MINUTE);
    const open = { ...base, kind: 'open' as const, subscriberId, linkPosition: null, linkKind: null };
    if (chance(subscriberId, 1) < 0.5) {
      events.push({
        ...open,
        ip: '203.0.113.7',
        userAgent: readerAgent,
        occurredAt: at(2 + 30 * chance(subscriberId, 2)),
      });
      if (chance(subscriberId, 3) < 0.3)
        events.push({ ...open, ip: '203.0.113.7', userAgent: readerAgent, occurredAt: at(45) });
      const link = links[Math.floor(chance(subscriberId, 4) * links.length)];
      if (link && chance(subscriberId, 5) < 0.33) {
        events.push({
          ...base,
          kind: 'click',
          subscriberId,
          linkPosition: link.position,
          linkKind: 'story',
          ip: '203.0.113.7',
          userAgent: readerAgent,
          occurredAt: at(3 + 30 * chance(subscriberId, 2)),
        });
      }
      const voted = links[Math.floor(chance(subscriberId, 7) * links.length)];
      if (voted?.story_id && chance(subscriberId, 8) < 0.12) {
        const more = voted === link || chance(subscriberId, 9) < 0.6;
        votes.push({
          subscriberId,
          storyId: voted.story_id,
          issueId,
          choice: more ? 'more' : 'less',
          now: at(6),
        });
      }
      if (chance(subscriberId, 10) < 0.1) {
        const roll = chance(subscriberId, 11);
        ratings.push({ subscriberId, issueId, rating: roll < 0.15 ? 1 : roll < 0.5 ? 2 : 3, now: at(8) });
      }
    } else if (chance(subscriberId, 6) < 0.2) {
      events.push({ ...open, ip: '66.249.84.1', userAgent: proxyAgent, occurredAt: at(1) });
    }
  }
  await writeEvents(db, events);
  for (const vote of votes) await saveStoryVote(db, vote);
  for (const rating of ratings) await saveIssueRating(db, rating);
  return {
    opens: events.filter((e) => e.kind === 'open').length,
    clicks: events.filter((e) => e.kind === 'click').length,
    votes: votes.length,
    ratings: ratings.length,
  };
}
