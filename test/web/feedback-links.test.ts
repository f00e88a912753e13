import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type ParsedMail, simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { runDemo } from '../../src/cli/run-demo.ts';
import { loadIssueFeedback } from '../../src/feedback/feedback.repository.ts';
import { eraseSubscriber, exportSubscriberById } from '../../src/subscribers/erasure.ts';
import { findInactiveReaders } from '../../src/subscribers/sunset.ts';
import { signFeedbackTokens, verifyFeedbackToken } from '../../src/tracking/token.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { editorFetch } from '../support/editor-fetch.ts';
import { createTestApp, SECRET } from './web-fixtures.ts';

// The demo sends its issue for real (outbox); the feedback links of a sent copy are followed against the
// running server, as a reader's browser would.
const BROWSER =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
const secrets = { current: SECRET, previous: [] };
let app: App;
let server: RunningServer;
let mails: ParsedMail[];

beforeAll(async () => {
  app = await createTestApp();
  await runDemo(app, { week: '2026-W48', now: new Date('2026-11-30T07:00:00Z'), simulateReaders: false });
  const files = readdirSync(app.config.outboxDir).filter((name) => name.endsWith('.eml'));
  mails = await Promise.all(
    files.map((file) => simpleParser(readFileSync(path.join(app.config.outboxDir, file)))),
  );
  server = await startServer(app, { port: 0, host: '127.0.0.1', feedbackPerHour: 1000 });
});
afterAll(async () => {
  await server?.close();
  await app?.close();
});

const feedbackLinks = (text: string) => [
  ...new Set(text.match(/http:\/\/recap\.test\/f\/[A-Za-z0-9._-]+/g) ?? []),
];
const tokenOf = (link: string) => link.split('/f/')[1] ?? '';
const local = (token: string) => `${server.url}/f/${token}`;

async function counts() {
  const [votes, ratings] = await Promise.all([
    app.db.selectFrom('story_votes').selectAll().execute(),
    app.db.selectFrom('issue_ratings').selectAll().execute(),
  ]);
  return { votes, ratings };
}

async function clear() {
  await app.db.deleteFrom('story_votes').execute();
  await app.db.deleteFrom('issue_ratings').execute();
}

/** GETs the page, then posts its form back with `choice` (the stamp and hidden fields as served). */
async function answer(token: string, choice: string | null, agent: string | null = BROWSER) {
  const page = await (await fetch(local(token), { headers: { 'user-agent': BROWSER } })).text();
  const stamp = /name="form_stamp" value="([^"]+)"/.exec(page)?.[1] ?? '';
  const body = new URLSearchParams({ form_stamp: stamp, website: '' });
  if (choice !== null) body.set('choice', choice);
  return fetch(local(token), {
    method: 'POST',
    body,
    headers: agent === null ? {} : { 'user-agent': agent },
  });
}

/** A copy's first story "more" link, "less" link and the rating links, verified. */
function linksOf(mail: ParsedMail) {
  const tokens = feedbackLinks(mail.html || '').map(tokenOf);
  const payloads = tokens.map((token) => ({ token, payload: verifyFeedbackToken(secrets, token) }));
  const story = payloads.filter((p) => p.payload?.kind === 'story');
  const ratings = payloads.filter((p) => p.payload?.kind === 'rating');
  return { tokens, story, ratings };
}

const recipientOf = (mail: ParsedMail) =>
  (mail.to && !Array.isArray(mail.to) ? mail.to.value[0]?.address : undefined) ?? '';

async function subscriberOf(mail: ParsedMail) {
  return app.db
    .selectFrom('subscribers')
    .select(['id', 'tracking_enabled'])
    .where('email', '=', recipientOf(mail))
    .executeTakeFirstOrThrow();
}

describe('feedback links of sent copies', () => {
  // Untracked readers' copies carry them too: test/render/feedback-links.test.ts (the demo's readers are tracked).
  it('every copy carries vote links under its stories and three ratings, for its reader', async () => {
    expect(mails.length).toBeGreaterThan(1);
    for (const mail of mails) {
      const reader = await subscriberOf(mail);
      const { tokens, story, ratings } = linksOf(mail);
      expect(tokens.length).toBeGreaterThan(5);
      expect(story.length).toBeGreaterThanOrEqual(4);
      expect(ratings.map((r) => r.payload?.kind === 'rating' && r.payload.rating)).toEqual([1, 2, 3]);
      for (const { payload } of [...story, ...ratings]) expect(payload?.subscriberId).toBe(reader.id);
      // The plain-text part carries the same links.
      expect(feedbackLinks(mail.text ?? '').sort()).toEqual(feedbackLinks(mail.html || '').sort());
    }
  });

  it('GET shows the story with the choice pre-selected and records nothing (HEAD neither)', async () => {
    await clear();
    const { story } = linksOf(mails[0] as ParsedMail);
    const less = story.find((s) => s.payload?.kind === 'story' && s.payload.choice === 'less');
    const response = await fetch(local(less?.token ?? ''), { headers: { 'user-agent': BROWSER } });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const page = await response.text();
    expect(page).toMatch(/<input type="radio" name="choice" value="less" checked required>/);
    expect(page).toMatch(/<input type="radio" name="choice" value="more" required>/);
    const link = less?.payload?.kind === 'story' ? less.payload.link : -1;
    const registered = await app.db
      .selectFrom('issue_links')
      .innerJoin('stories', 'stories.id', 'issue_links.story_id')
      .select('stories.title')
      .where('issue_links.position', '=', link)
      .executeTakeFirstOrThrow();
    expect(page).toContain(registered.title.replaceAll('&', '&amp;').replaceAll("'", '&#39;'));
    expect((await fetch(local(less?.token ?? ''), { method: 'HEAD' })).status).toBe(200);
    expect(await counts()).toEqual({ votes: [], ratings: [] });
  });

  it('POST records one vote per reader and story: twice is still one row, a changed choice replaces it', async () => {
    await clear();
    const mail = mails[0] as ParsedMail;
    const reader = await subscriberOf(mail);
    const { story } = linksOf(mail);
    const more = story.find((s) => s.payload?.kind === 'story' && s.payload.choice === 'more');
    const first = await answer(more?.token ?? '', 'more');
    expect(first.status).toBe(200);
    const thanks = await first.text();
    expect(thanks).toContain('Your answer is saved: <strong>More like this</strong>');
    expect(thanks).toContain('Change my answer');
    expect((await answer(more?.token ?? '', 'more')).status).toBe(200);
    let { votes } = await counts();
    expect(votes).toHaveLength(1);
    expect(votes[0]).toMatchObject({ subscriber_id: reader.id, vote: 1 });
    const storyId = votes[0]?.story_id;
    // The "more" link's page, answered "less": the reader changed their mind.
    expect((await answer(more?.token ?? '', 'less')).status).toBe(200);
    ({ votes } = await counts());
    expect(votes).toHaveLength(1);
    expect(votes[0]).toMatchObject({ subscriber_id: reader.id, story_id: storyId, vote: -1 });
    // Its page now shows the answer on record beside the link's choice.
    expect(
      await (await fetch(local(more?.token ?? ''), { headers: { 'user-agent': BROWSER } })).text(),
    ).toContain('Your answer so far: <strong>Less like this</strong>');
  });

  it('POST records one rating per reader and issue, changeable', async () => {
    await clear();
    const { ratings } = linksOf(mails[1] as ParsedMail);
    expect((await answer(ratings[2]?.token ?? '', '3')).status).toBe(200);
    expect((await answer(ratings[2]?.token ?? '', '3')).status).toBe(200);
    expect((await counts()).ratings.map((r) => r.rating)).toEqual([3]);
    expect((await answer(ratings[0]?.token ?? '', '1')).status).toBe(200);
    expect((await counts()).ratings.map((r) => r.rating)).toEqual([1]);
  });

  it('a forged, altered, foreign or unregistered token is a 404 on GET and POST, and records nothing', async () => {
    await clear();
    const mail = mails[0] as ParsedMail;
    const { story, ratings } = linksOf(mail);
    const good = story[0]?.token ?? '';
    const [k, id, issue, mark, tag] = good.split('.');
    const issueId = story[0]?.payload?.issueId ?? 0;
    const honeypot = await app.db
      .selectFrom('issue_links')
      .select('position')
      .where('kind', '=', 'honeypot')
      .executeTakeFirstOrThrow();
    const clickToken = (mail.html || '').match(/http:\/\/recap\.test\/c\/([^"]+)/)?.[1] ?? '';
    const bad = [
      [k, String(Number(id) + 1), issue, mark, tag].join('.'),
      `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`,
      signFeedbackTokens(
        { current: 'another-secret-0123456789-abcdef', previous: [] },
        id ?? '1',
        issueId,
        [0],
      ).stories[0]?.more ?? '',
      // Signed right, but the position is the hidden scanner link's, not a story's own link.
      signFeedbackTokens(secrets, id ?? '1', issueId, [honeypot.position]).stories[0]?.more ?? '',
      // Signed right, for an issue that does not exist.
      signFeedbackTokens(secrets, id ?? '1', issueId + 1000, []).ratings[0],
      clickToken,
      // Signed right, for ids the database's columns cannot hold (a 404, never a query error).
      signFeedbackTokens(secrets, '9'.repeat(19), issueId, [0]).ratings[0],
      signFeedbackTokens(secrets, id ?? '1', 2 ** 32 - 1, [0]).ratings[0],
      'garbage',
    ];
    for (const token of bad) {
      const get = await fetch(local(token), { headers: { 'user-agent': BROWSER } });
      expect(get.status, token).toBe(404);
      const post = await fetch(local(token), {
        method: 'POST',
        body: new URLSearchParams({ choice: 'more' }),
        headers: { 'user-agent': BROWSER },
      });
      expect(post.status, token).toBe(404);
    }
    expect(ratings).toHaveLength(3);
    expect(await counts()).toEqual({ votes: [], ratings: [] });
  });

  it('scanner-classified, stale or malformed POSTs never vote, and say why', async () => {
    await clear();
    const { story } = linksOf(mails[0] as ParsedMail);
    const token = story[0]?.token ?? '';
    for (const agent of ['Mozilla/5.0 (compatible; SafeLinks)', 'python-requests/2.31', 'curl/8.5.0', '']) {
      const response = await answer(token, 'more', agent);
      expect(response.status, String(agent)).toBe(403);
      expect(await response.text()).toContain('nothing was recorded');
    }
    // A bot that fills the field people never see.
    const bot = await fetch(local(token), {
      method: 'POST',
      body: new URLSearchParams({ choice: 'more', website: 'https://spam.example' }),
      headers: { 'user-agent': BROWSER },
    });
    expect(bot.status).toBe(403);
    // No stamp, a forged stamp: an out-of-date form.
    for (const stamp of ['', 'zzzz.AAAAAAAAAAAAAAAA']) {
      const stale = await fetch(local(token), {
        method: 'POST',
        body: new URLSearchParams({ choice: 'more', form_stamp: stamp }),
        headers: { 'user-agent': BROWSER },
      });
      expect(stale.status).toBe(400);
      expect(await stale.text()).toContain('out of date');
    }
    for (const choice of [null, '', 'both', '3', 'MORE']) {
      const response = await answer(token, choice);
      expect(response.status, String(choice)).toBe(400);
      expect(await response.text()).toContain('Choose one of: More like this, Less like this.');
    }
    expect(await counts()).toEqual({ votes: [], ratings: [] });
  });

  it('answers are rate-limited per address like the other public forms', async () => {
    const limited = await startServer(app, { port: 0, host: '127.0.0.1', feedbackPerHour: 2 });
    try {
      const token = linksOf(mails[0] as ParsedMail).ratings[1]?.token ?? '';
      const post = () =>
        fetch(`${limited.url}/f/${token}`, {
          method: 'POST',
          body: new URLSearchParams({ choice: '2' }),
          headers: { 'user-agent': BROWSER },
        });
      expect((await post()).status).toBe(400);
      expect((await post()).status).toBe(400);
      const third = await post();
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).toBe('600');
    } finally {
      await limited.close();
    }
  });

  it('stats count votes per story and ratings per segment set; a vote keeps a reader from sunsetting', async () => {
    await clear();
    const [first, second] = mails as [ParsedMail, ParsedMail];
    const a = linksOf(first);
    const b = linksOf(second);
    const storyA = a.story.find((s) => s.payload?.kind === 'story' && s.payload.choice === 'more');
    expect((await answer(storyA?.token ?? '', 'more')).status).toBe(200);
    expect((await answer(a.ratings[2]?.token ?? '', '3')).status).toBe(200);
    expect((await answer(b.ratings[0]?.token ?? '', '1')).status).toBe(200);
    const issueId = storyA?.payload?.issueId ?? 0;
    const feedback = await loadIssueFeedback(app.db, issueId);
    expect(feedback.votes).toHaveLength(1);
    expect(feedback.votes[0]).toMatchObject({ more: 1, less: 0 });
    expect(feedback.total).toMatchObject({ counts: [1, 0, 1], answers: 2, mean: 2 });
    const sets = await app.db
      .selectFrom('deliveries')
      .select(['segment_key', 'subscriber_id'])
      .where('issue_id', '=', issueId)
      .execute();
    const readerA = await subscriberOf(first);
    const setA = sets.find((d) => d.subscriber_id === readerA.id)?.segment_key;
    expect(feedback.ratings.find((r) => r.segmentKey === setA)?.counts[2]).toBeGreaterThanOrEqual(1);

    // The editor's stats page shows the same numbers.
    const page = await (
      await editorFetch(() => server.editor.token)(`${server.url}/editor/issues/2026-W48/stats`)
    ).text();
    expect(page).toContain('Reader feedback');
    expect(page).toMatch(
      /<td class="num" data-metric="more">1<\/td><td class="num" data-metric="less">0<\/td>/,
    );
    expect(page).toMatch(
      /<tr data-segment-key="all"><td>All readers<\/td><td class="num">1<\/td><td class="num">0<\/td><td class="num">1<\/td><td class="num">2<\/td><td class="num" data-metric="mean">2\.00<\/td><\/tr>/,
    );

    // Sunsetting after one issue: the tracked reader who voted is not inactive, the others are.
    const tracked = await app.db
      .selectFrom('subscribers')
      .select('id')
      .where('tracking_enabled', '=', true)
      .where('status', '=', 'active')
      .execute();
    const inactive = await findInactiveReaders(app.db, 1);
    if (readerA.tracking_enabled) expect(inactive).not.toContain(readerA.id);
    const voters = new Set([readerA.id, (await subscriberOf(second)).id]);
    for (const { id } of tracked) if (!voters.has(id)) expect(inactive).toContain(id);
  });

  it('a reader no longer subscribed records nothing; erasure deletes their votes and ratings', async () => {
    await clear();
    const mail = mails[0] as ParsedMail;
    const reader = await subscriberOf(mail);
    const { story, ratings } = linksOf(mail);
    expect((await answer(story[0]?.token ?? '', 'more')).status).toBe(200);
    expect((await answer(ratings[1]?.token ?? '', '2')).status).toBe(200);
    const exported = await exportSubscriberById(app.db, reader.id);
    expect(exported?.story_votes).toHaveLength(1);
    expect(exported?.issue_ratings).toHaveLength(1);
    await app.db
      .updateTable('subscribers')
      .set({ status: 'unsubscribed' })
      .where('id', '=', reader.id)
      .execute();
    const refused = await fetch(local(story[1]?.token ?? ''), {
      method: 'POST',
      body: new URLSearchParams({ choice: 'less' }),
      headers: { 'user-agent': BROWSER },
    });
    expect(refused.status).toBe(410);
    expect(await refused.text()).toContain('no longer receives the Weekly AI Recap');
    expect((await counts()).votes).toHaveLength(1);
    await eraseSubscriber(app.db, recipientOf(mail), { ip: null, userAgent: null, source: 'test' });
    expect(await counts()).toEqual({ votes: [], ratings: [] });
    expect((await fetch(local(ratings[1]?.token ?? ''), { headers: { 'user-agent': BROWSER } })).status).toBe(
      410,
    );
  });
});
