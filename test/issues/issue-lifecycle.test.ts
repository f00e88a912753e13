import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/database.ts';
import { cancelSend, pauseSend, resumeSend } from '../../src/delivery/send-control.ts';
import { startSend } from '../../src/delivery/start-send.ts';
import { UserError } from '../../src/errors.ts';
import { buildIssue } from '../../src/issues/build-issue.ts';
import { findIssueRow } from '../../src/issues/issue.repository.ts';
import { approveIssue, emptySegmentsOf, unapproveIssue } from '../../src/issues/issue-lifecycle.ts';
import { dropStory } from '../../src/issues/issue-overrides.repository.ts';
import { ensureSegments, upsertStories } from '../../src/stories/story.repository.ts';
import { upsertSubscribers } from '../../src/subscribers/subscriber.repository.ts';
import { makeStory } from '../selection/story-factory.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

// A week whose only story is tagged Alpha; the editor drops it from Beta, so Beta has no story even after
// fallback. Another week has no story at all.
const week = '2026-W48';
const emptyWeek = '2026-W10';
const settings = { timeZone: 'UTC', storiesPerSegment: 7, minStoriesPerSegment: 3 };
let database: TestDatabase;
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  await db.transaction().execute(async (trx) => {
    await upsertStories(trx, [makeStory({ id: 'alpha-1', audiences: ['Alpha'] })]);
    const segments = await ensureSegments(trx, ['Alpha', 'Beta']);
    await upsertSubscribers(
      trx,
      [{ email: 'reader@example.com', name: null, timeZone: null, segmentIds: segments.map((s) => s.id) }],
      'test',
    );
  });
  const beta = (await ensureSegments(db, ['Beta']))[0]?.id as number;
  await dropStory(db, { week, storyId: 'alpha-1', segmentId: beta });
  await buildIssue(db, { ...settings, week, now: new Date('2026-11-30T07:00:00Z') });
  await buildIssue(db, { ...settings, week: emptyWeek, now: new Date('2026-03-09T07:00:00Z') });
});
afterAll(() => database?.close());

describe('the issue lifecycle', () => {
  it('refuses to approve an issue with an empty segment unless allowed, then keeps the reason', async () => {
    const issue = await findIssueRow(db, week);
    expect(await emptySegmentsOf(db, issue?.id as number)).toEqual(['Beta']);
    const refused = approveIssue(db, week);
    await expect(refused).rejects.toBeInstanceOf(UserError);
    await expect(refused).rejects.toThrow(
      'issue 2026-W48 not approved: "Beta" has no stories; import stories and rebuild, or approve with empty segments allowed (recap issue approve --allow-empty)',
    );
    expect((await findIssueRow(db, week))?.status).toBe('draft');

    const approved = await approveIssue(db, week, {
      allowEmpty: true,
      reason: 'Beta readers are on holiday',
    });
    expect(approved.status).toBe('approved');
    const row = await findIssueRow(db, week);
    expect(row?.status_reason).toBe('approved with empty segments (Beta): Beta readers are on holiday');
    expect(row?.approved_at).not.toBeNull();
  });

  it('never approves a week without any story, even when empty segments are allowed', async () => {
    await expect(approveIssue(db, emptyWeek, { allowEmpty: true })).rejects.toThrow(
      'issue 2026-W10 has no stories in any segment: nothing to approve',
    );
    await expect(approveIssue(db, '2026-W11')).rejects.toThrow('issue 2026-W11 has not been built yet');
  });

  it('returns an approved issue to draft until its send starts, then refuses with one line', async () => {
    await approveIssue(db, week, { allowEmpty: true, timeZone: 'UTC' });
    expect((await findIssueRow(db, week))?.content_snapshot).not.toBeNull();
    const draft = await unapproveIssue(db, week);
    expect(draft.status).toBe('draft');
    const row = await findIssueRow(db, week);
    expect(row).toMatchObject({
      status: 'draft',
      approved_at: null,
      content_snapshot: null,
      status_reason: null,
    });
    await expect(unapproveIssue(db, week)).rejects.toThrow('issue 2026-W48 is already a draft');

    await approveIssue(db, week, { allowEmpty: true });
    await startSend(db, row?.id as number, { messageIdDomain: 'example.com', requireApproval: true });
    expect((await findIssueRow(db, week))?.status).toBe('sending');
    await expect(unapproveIssue(db, week)).rejects.toThrow(
      'issue 2026-W48 is sending: its send has started, so it can no longer return to draft',
    );
    await expect(unapproveIssue(db, '2026-W12')).rejects.toThrow('no issue for 2026-W12');
  });

  it('moves a started send only along its edges: pause, resume, cancel', async () => {
    const id = (await findIssueRow(db, week))?.id as number;
    expect(await resumeSend(db, id)).toBe(false);
    expect(await pauseSend(db, id, 'checking a complaint')).toBe(true);
    expect(await pauseSend(db, id, 'again')).toBe(false);
    expect(await resumeSend(db, id)).toBe(true);
    expect(await cancelSend(db, id, 'by a test')).toBe(1);
    const row = await findIssueRow(db, week);
    expect(row).toMatchObject({ status: 'cancelled', status_reason: 'by a test' });
    expect(row?.send_finished_at).not.toBeNull();
    expect(await cancelSend(db, id, 'twice')).toBeNull();
    await expect(approveIssue(db, week)).rejects.toThrow('issue 2026-W48 was cancelled');
  });
});
