import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { type EmailAddress, toEmailAddress } from '../../src/subscribers/email-address.ts';
import { confirmSignUp, requestSignUp } from '../../src/subscribers/sign-up.ts';
import {
  loadSubscriberPreferences,
  resubscribeSubscriber,
  unsubscribeSubscriber,
  updatePreferences,
} from '../../src/subscribers/subscription-changes.ts';
import { recordComplaint, recordHardBounce } from '../../src/subscribers/suppression.ts';
import { createTestApp } from '../web/web-fixtures.ts';

let app: App;
let segmentIds: number[];
const web = { ip: '198.51.100.4', userAgent: 'Firefox', source: 'web' };

beforeAll(async () => {
  app = await createTestApp();
  segmentIds = (
    await app.db
      .insertInto('segments')
      .values([
        { name: 'Engineers', slug: 'engineers' },
        { name: 'Founders', slug: 'founders' },
      ])
      .returning('id')
      .execute()
  ).map((row) => row.id);
});
afterAll(() => app?.close());

const statusOf = async (id: string) =>
  (await app.db.selectFrom('subscribers').select('status').where('id', '=', id).executeTakeFirstOrThrow())
    .status;
// Interval 0: these tests are about the sign-up states, not the confirmation throttle (test/security).
const signUp = (email: string, ids = segmentIds) =>
  requestSignUp(
    app.db,
    { email: toEmailAddress(email) as EmailAddress, segmentIds: ids, shown: { form: 'consent text' } },
    web,
    0,
  );

describe('double opt-in', () => {
  it('keeps a new address pending until confirmed, then activates it with the requested segments', async () => {
    const { subscriberId, outcome } = await signUp('erin@example.org', [segmentIds[1] ?? 0]);
    expect(outcome).toBe('confirm');
    expect(await statusOf(subscriberId)).toBe('pending');
    expect(await confirmSignUp(app.db, subscriberId, web)).toBe('confirmed');
    expect(await statusOf(subscriberId)).toBe('active');
    expect((await loadSubscriberPreferences(app.db, subscriberId))?.segmentIds).toEqual([segmentIds[1]]);
    expect(await confirmSignUp(app.db, subscriberId, web)).toBe('already-active');
  });

  it('does not let an old confirmation undo a later unsubscribe, but a new request can', async () => {
    const { subscriberId } = await signUp('frank@example.org');
    await confirmSignUp(app.db, subscriberId, web);
    await unsubscribeSubscriber(app.db, subscriberId, web);
    expect(await confirmSignUp(app.db, subscriberId, web)).toBe('not-requested');
    expect(await statusOf(subscriberId)).toBe('unsubscribed');
    expect((await signUp('frank@example.org')).outcome).toBe('confirm');
    expect(await statusOf(subscriberId)).toBe('unsubscribed');
    expect(await confirmSignUp(app.db, subscriberId, web)).toBe('confirmed');
    expect(await statusOf(subscriberId)).toBe('active');
  });

  it('never reactivates a bounced address from a web form; a complained one only by a request made after', async () => {
    const { subscriberId } = await signUp('gina@example.org');
    await confirmSignUp(app.db, subscriberId, web);
    await recordHardBounce(app.db, subscriberId, null, { status: '5.1.1' });
    expect((await signUp('gina@example.org')).outcome).toBe('suppressed');
    expect(await resubscribeSubscriber(app.db, subscriberId, web)).toEqual({ changed: false });
    await updatePreferences(app.db, subscriberId, { segmentIds, pauseWeeks: 0 }, web);
    expect(await statusOf(subscriberId)).toBe('bounced');
    await recordComplaint(app.db, subscriberId, {});
    expect(await statusOf(subscriberId)).toBe('complained');
    expect(await confirmSignUp(app.db, subscriberId, web)).toBe('not-requested');
    expect(await resubscribeSubscriber(app.db, subscriberId, web)).toEqual({ changed: false });
    expect((await signUp('gina@example.org')).outcome).toBe('confirm');
    expect(await confirmSignUp(app.db, subscriberId, web)).toBe('confirmed');
    expect(await statusOf(subscriberId)).toBe('active');
  });

  it('writes who, when, from where and what was shown for every change', async () => {
    const { subscriberId } = await signUp('hugo@example.org');
    await confirmSignUp(app.db, subscriberId, web);
    await updatePreferences(
      app.db,
      subscriberId,
      { segmentIds: [segmentIds[0] ?? 0, 999_999], pauseWeeks: 2 },
      web,
    );
    const log = await app.db
      .selectFrom('consent_log')
      .selectAll()
      .where('subscriber_id', '=', subscriberId)
      .orderBy('id')
      .execute();
    expect(log.map((row) => row.action)).toEqual(['signup-requested', 'confirm', 'preferences']);
    for (const row of log) {
      expect(row.ip).toBe('198.51.100.4');
      expect(row.user_agent).toBe('Firefox');
      expect(row.occurred_at).toBeInstanceOf(Date);
    }
    expect(log[0]?.detail).toMatchObject({ shown: { form: 'consent text' }, segmentIds });
    expect(log[2]?.detail).toMatchObject({ segmentIds: [segmentIds[0]] });
  });
});
