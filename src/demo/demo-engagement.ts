import type { Db } from '../db/database.ts';
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

/**
 * Simulated reader activity for the demo's freshly sent issue, so the dashboard has numbers to show:
 * about half of the readers open (some twice), a tenth more through an image proxy, and one in six
 * clicks a story. Events go through the real classifier and batch insert. Demo only.
 */
export async function simulateDemoEngagement(
  db: Db,
  issueId: number,
): Promise<{ opens: number; clicks: number }> {
  const deliveries = await db
    .selectFrom('deliveries')
    .select(['subscriber_id', 'sent_at'])
    .where('issue_id', '=', issueId)
    .where('status', '=', 'sent')
    .execute();
  const links = await db
    .selectFrom('issue_links')
    .select('position')
    .where('issue_id', '=', issueId)
    .where('kind', '=', 'story')
    .orderBy('position')
    .execute();
  const events: RawTrackingEvent[] = [];
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
    } else if (chance(subscriberId, 6) < 0.2) {
      events.push({ ...open, ip: '66.249.84.1', userAgent: proxyAgent, occurredAt: at(1) });
    }
  }
  await writeEvents(db, events);
  return {
    opens: events.filter((e) => e.kind === 'open').length,
    clicks: events.filter((e) => e.kind === 'click').length,
  };
}
