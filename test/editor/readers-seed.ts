import { listSegments } from '../../src/stories/story.repository.ts';
import { appendConsent } from '../../src/subscribers/consent-log.ts';
import { insertTrackingEvents } from '../../src/tracking/event-rollups.ts';
import type { TestDatabase } from '../support/database.ts';
import { seedWeek } from './editor-seed.ts';

/** The editor's token in these tests: set explicitly, as a deployment reachable by others must. */
export const EDITOR_TOKEN = 'readers-test-token-0123456789abcdef';

export interface SeededReaders {
  /** Ada Lovelace, active, 2 deliveries (one opened twice and clicked), a consent history. */
  ada: string;
  /** Grace Hopper, bounced by a hard bounce on the last issue. */
  grace: string;
}

/**
 * The editor's week (stories, segments, four unnamed readers) plus two named readers with history:
 * two sent issues, deliveries, human and machine events, consent records and a hard bounce.
 */
// Long: one fixture that builds a realistic reader history table by table.
export async function seedReaders(t: TestDatabase): Promise<SeededReaders> {
  await seedWeek(t);
  const [first, second] = await listSegments(t.db);
  if (!first || !second) throw new Error('the seed week has two segments');
  const [ada, grace] = await t.db
    .insertInto('subscribers')
    .values([
      {
        email: 'ada.lovelace@analytical.example',
        name: 'Ada Lovelace',
        status: 'active',
        confirmed_at: new Date(),
      },
      { email: 'g.hopper@navy.example', name: 'Grace Hopper', status: 'bounced', confirmed_at: new Date() },
    ])
    .returning('id')
    .execute();
  if (!ada || !grace) throw new Error('two readers inserted');
  await t.db
    .insertInto('subscriptions')
    .values([
      { subscriber_id: ada.id, segment_id: first.id },
      { subscriber_id: grace.id, segment_id: second.id },
    ])
    .execute();
  const issues = await t.db
    .insertInto('issues')
    .values([
      { week: '2026-W45', status: 'sent' },
      { week: '2026-W46', status: 'sent' },
    ])
    .returning(['id', 'week'])
    .execute();
  await t.db
    .insertInto('deliveries')
    .values(
      issues.flatMap((issue) => [
        {
          issue_id: issue.id,
          subscriber_id: ada.id,
          segment_key: first.slug,
          status: 'sent' as const,
          message_id: `<${issue.week}.ada@example.com>`,
          sent_at: new Date('2026-11-16T08:00:00Z'),
        },
        {
          issue_id: issue.id,
          subscriber_id: grace.id,
          segment_key: second.slug,
          status: issue.week === '2026-W46' ? ('bounced' as const) : ('sent' as const),
          message_id: `<${issue.week}.grace@example.com>`,
          last_error: issue.week === '2026-W46' ? '550 5.1.1 user unknown' : null,
        },
      ]),
    )
    .execute();
  const w46 = issues.find((i) => i.week === '2026-W46')?.id as number;
  await insertTrackingEvents(t.db, [
    { kind: 'open', issue_id: w46, subscriber_id: ada.id, class: 'human' },
    { kind: 'open', issue_id: w46, subscriber_id: ada.id, class: 'human' },
    { kind: 'open', issue_id: w46, subscriber_id: ada.id, class: 'machine' },
    { kind: 'click', issue_id: w46, subscriber_id: ada.id, class: 'human', link_position: 0 },
  ]);
  const web = { ip: '203.0.113.9', userAgent: 'Firefox', source: 'web' };
  await appendConsent(t.db, ada.id, 'subscribe', web, { shown: 'sign-up form' });
  await appendConsent(t.db, ada.id, 'confirm', web);
  await appendConsent(
    t.db,
    grace.id,
    'suppressed-hard-bounce',
    { ip: null, userAgent: null, source: 'bounce' },
    {
      issueId: w46,
      status: '5.1.1',
      diagnostic: 'user unknown',
    },
  );
  return { ada: ada.id, grace: grace.id };
}
