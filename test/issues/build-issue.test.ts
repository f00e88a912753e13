import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/database.ts';
import { buildIssue, buildSettingsOf } from '../../src/issues/build-issue.ts';
import { getIssue, IssueStateError, listIssues } from '../../src/issues/issue.repository.ts';
import { loadIssueContent } from '../../src/issues/issue-content.repository.ts';
import { editionFor } from '../../src/issues/issue-content.ts';
import { approveIssue } from '../../src/issues/issue-lifecycle.ts';
import {
  boostStory,
  clearOverrides,
  dropStory,
  listOverrides,
  pinStory,
} from '../../src/issues/issue-overrides.repository.ts';
import type { IssueReport } from '../../src/issues/issue-report.ts';
import { issueLinks } from '../../src/render/issue-links.ts';
import { recapOutline } from '../../src/render/recap-outline.ts';
import { listSegments, upsertStories } from '../../src/stories/story.repository.ts';
import type { Story } from '../../src/stories/story.ts';
import { makeStory } from '../selection/story-factory.ts';
import { generateWeek } from '../selection/week-generator.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const week = '2026-W48';
const options = {
  week,
  timeZone: 'UTC',
  storiesPerSegment: 7,
  minStoriesPerSegment: 3,
  now: new Date('2026-11-30T07:00:00Z'),
};

let database: TestDatabase;
let db: Db;
const generated = generateWeek({ seed: 48, events: 45, outOfWeek: 8 });

async function seed(stories: Story[]) {
  await db.transaction().execute((trx) => upsertStories(trx, stories));
}

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  await seed(generated.stories);
});
afterAll(async () => {
  await database?.close();
});

/** The invariants the issue promises on the JSON of `recap issue build --json`. */
function checkReport(report: IssueReport, stories: Story[]) {
  const byId = new Map(stories.map((s) => [s.id, s]));
  const eventOf = new Map(generated.events.flatMap((ids, i) => ids.map((id) => [id, i] as const)));
  const start = Date.parse('2026-11-23T00:00:00Z');
  const end = Date.parse('2026-11-30T00:00:00Z');
  const widest = generated.widestEvent;
  for (const segment of report.segments) {
    const events = segment.stories.map((s) => eventOf.get(s.id));
    expect(new Set(events).size, `one event twice in ${segment.segment}`).toBe(events.length);
    const perSource = new Map<string, number>();
    for (const item of segment.stories) {
      const story = byId.get(item.id) as Story;
      const time = (story.publishedAt ?? story.collectedAt)?.getTime() as number;
      expect(time >= start && time < end, `${item.id} is outside the week`).toBe(true);
      perSource.set(story.source.name, (perSource.get(story.source.name) ?? 0) + 1);
      if (!item.fallback) expect(story.audiences).toContain(segment.segment);
      expect(item.reasons.length).toBeGreaterThan(0);
      expect(Object.keys(item.scoreBreakdown).sort()).toEqual(
        ['authority', 'boost', 'completeness', 'coverage', 'engagement', 'recency', 'relevance'].sort(),
      );
    }
    expect(Math.max(0, ...perSource.values())).toBeLessThanOrEqual(2);
    if (widest.some((id) => byId.get(id)?.audiences.includes(segment.segment))) {
      expect(
        segment.stories.some((s) => widest.includes(s.id)),
        `widest event missing in ${segment.segment}`,
      ).toBe(true);
    }
  }
}

describe('building an issue from a generated week', () => {
  it('stores a selection whose JSON holds every invariant', async () => {
    const build = await buildIssue(db, options);
    expect(build.rebuilt).toBe(true);
    expect(build.report.week).toBe(week);
    const segments = await listSegments(db);
    expect(build.report.segments.map((s) => s.segment)).toEqual(segments.map((s) => s.name));
    checkReport(build.report, generated.stories);
    const widestItem = build.report.segments
      .flatMap((s) => s.stories)
      .find((s) => generated.widestEvent.includes(s.id));
    expect(widestItem?.alsoCoveredBy).toHaveLength(5);
    expect(widestItem?.reasons).toContain('cluster of 6 outlets');
    // What was stored is what the renderer reads back.
    const content = await loadIssueContent(db, week, 'UTC');
    expect(content?.sections.map((s) => s.stories.map((i) => i.story.id))).toEqual(
      build.report.segments.map((s) => s.stories.map((i) => i.id)),
    );
    expect(content?.sections.every((s) => s.stories.every((i) => i.clusterId?.startsWith('c:')))).toBe(true);
    const edition = editionFor(
      content as NonNullable<typeof content>,
      segments.map((s) => s.slug),
    );
    const clusters = [edition.hero, ...edition.sections.flatMap((s) => s.stories)].map((i) => i?.clusterId);
    expect(new Set(clusters).size).toBe(clusters.length);
  });

  it('is the same on a rebuild, and keeps overrides across rebuilds until approval freezes it', async () => {
    const first = await buildIssue(db, options);
    const again = await buildIssue(db, { ...options, now: new Date('2026-11-30T07:00:00Z') });
    expect(again.report).toEqual(first.report);

    const researchers = (await listSegments(db)).find((s) => s.name === 'Researchers');
    if (!researchers) throw new Error('generated week has no Researchers');
    const picked = first.report.segments.find((s) => s.segment === 'Researchers')?.stories ?? [];
    const outsider = generated.stories.find(
      (s) =>
        s.audiences.includes('Researchers') &&
        !picked.some((p) => generated.events.some((e) => e.includes(p.id) && e.includes(s.id))),
    ) as Story;
    const dropped = picked[0]?.id as string;
    await pinStory(db, { week, storyId: outsider.id, segmentId: researchers.id, position: 1 });
    await dropStory(db, { week, storyId: dropped, segmentId: null });
    await boostStory(db, { week, storyId: outsider.id, segmentId: null, boost: 0.1 });
    await boostStory(db, { week, storyId: outsider.id, segmentId: null, boost: 0.3 });
    expect((await listOverrides(db, week)).map((o) => [o.kind, o.boost])).toEqual([
      ['pin', null],
      ['drop', null],
      ['boost', 0.3],
    ]);
    const built = await buildIssue(db, options);
    const section = built.report.segments.find((s) => s.segment === 'Researchers');
    expect(section?.stories[1]?.id).toBe(outsider.id);
    expect(section?.stories[1]?.reasons[0]).toBe('pinned by editor at position 2');
    expect(section?.stories[1]?.scoreBreakdown.boost).toBe(0.3);
    expect(built.report.segments.flatMap((s) => s.stories.map((i) => i.id))).not.toContain(dropped);
    checkReport(built.report, generated.stories);
    expect((await getIssue(db, week))?.overrideCount).toBe(3);

    const approved = await approveIssue(db, week);
    expect(approved.status).toBe('approved');
    await expect(
      pinStory(db, { week, storyId: dropped, segmentId: null, position: null }),
    ).rejects.toBeInstanceOf(IssueStateError);
    await expect(clearOverrides(db, { week })).rejects.toThrow(
      'issue 2026-W48 is approved; its selection is frozen',
    );
    await seed([
      makeStory({
        id: 'late-big-news',
        title: 'Late breaking',
        audiences: ['Researchers'],
        publishedAt: new Date('2026-11-29T10:00:00Z'),
      }),
    ]);
    const frozen = await buildIssue(db, options);
    expect(frozen.rebuilt).toBe(false);
    expect(frozen.report).toEqual(built.report);
    expect(await approveIssue(db, week)).toMatchObject({ status: 'approved' });
    const list = await listIssues(db);
    expect(list[0]).toMatchObject({
      week,
      status: 'approved',
      segmentCount: built.report.segments.filter((s) => !s.skipped).length,
    });
  });
});

describe('across weeks', () => {
  it("does not repeat last issue's events unless their timeline moved, and lists developing stories", async () => {
    const w49 = '2026-W49';
    const w49Options = { ...options, week: w49, now: new Date('2026-12-07T07:00:00Z') };
    const lastIssue = (await buildIssue(db, options)).content;
    const sentStory = lastIssue.sections.flatMap((s) => s.stories).map((i) => i.story)[0] as Story;
    const renewedStory = lastIssue.sections
      .flatMap((s) => s.stories)
      .map((i) => i.story)
      .find((s) => s.id !== sentStory.id && s.title !== sentStory.title) as Story;
    const followUps = [
      {
        ...sentStory,
        id: 'follow-plain',
        url: 'https://follow.example/plain',
        canonicalUrl: 'https://follow.example/plain',
        source: { name: 'Follow Post', url: null },
        publishedAt: new Date('2026-12-01T09:00:00Z'),
      },
      {
        ...renewedStory,
        id: 'follow-renewed',
        url: 'https://follow.example/renewed',
        canonicalUrl: 'https://follow.example/renewed',
        source: { name: 'Follow Times', url: null },
        publishedAt: new Date('2026-12-02T09:00:00Z'),
      },
      ...Array.from({ length: 4 }, (_, i) =>
        makeStory({
          id: `w49-${i}`,
          title: `December item ${['alpha', 'beta', 'gamma', 'delta'][i]}`,
          audiences: sentStory.audiences,
          source: { name: `W49 Outlet ${i}`, url: null },
          publishedAt: new Date('2026-12-03T09:00:00Z'),
        }),
      ),
    ];
    // The renewed event's original story gained a day-precise timeline entry inside W49; a month-only one does not count.
    await seed([
      ...followUps,
      {
        ...renewedStory,
        timeline: [
          { date: '2026-12', event: 'Month only' },
          { date: '2026-12-02', event: 'Went generally available' },
        ],
      },
      { ...sentStory, timeline: [{ date: '2026-12', event: 'Sometime in December' }] },
    ]);
    const build = await buildIssue(db, w49Options);
    const ids = build.report.segments.flatMap((s) => s.stories.map((i) => i.id));
    expect(ids).not.toContain('follow-plain');
    const plainCandidate = build.report.segments
      .flatMap((s) => s.candidates ?? [])
      .find((c) => c.id === 'follow-plain');
    expect(plainCandidate?.reasons[0]).toMatch(/^sent in the previous issue \(2026-W48\)/);
    expect(ids).toContain('follow-renewed');
    const content = await loadIssueContent(db, w49, 'UTC');
    // The renewed event is told by its update card (what it continues, what changed), not again under "Developing".
    const renewed = content?.sections.flatMap((s) => s.stories).find((i) => i.story.id === 'follow-renewed');
    expect(renewed?.update).toMatchObject({
      storyId: renewedStory.id,
      week: '2026-W48',
      title: renewedStory.title,
      url: 'http://localhost:3000/archive/2026-W48',
      newEvents: [{ date: '2026-12-02', event: 'Went generally available' }],
    });
    expect(content?.developing.map((d) => d.story.id)).not.toContain(renewedStory.id);
    expect(content?.sections.find((s) => s.skipped)?.skipReason ?? 'none').toMatch(
      /no stories tagged for|none/,
    );
  });

  it('shows a story of an event sent two issues earlier as an update, links the earlier issue, and keeps it in the snapshot', async () => {
    const at = (day: string) => new Date(`${day}T09:00:00Z`);
    const stories = [
      makeStory({
        id: 'orbit-first',
        title: 'Orbital Compute opens lunar data centre',
        tldr: {
          whatChanged: 'Orbital Compute opened a lunar data centre.',
          whyItMatters: null,
          whatToDoNext: null,
        },
        publishedAt: at('2026-12-16'),
        timeline: [{ date: '2026-12-15', event: 'Opening announced' }],
      }),
      ...['nectar', 'bramble', 'thistle'].map((word) =>
        makeStory({ id: `w51-${word}`, title: `${word} story of W51`, publishedAt: at('2026-12-16') }),
      ),
      ...['copper', 'willow', 'juniper'].map((word) =>
        makeStory({ id: `w52-${word}`, title: `${word} story of W52`, publishedAt: at('2026-12-23') }),
      ),
      makeStory({
        id: 'orbit-later',
        title: 'Orbital Compute lunar data centre goes live',
        source: { name: 'Space Wire', url: null },
        tldr: {
          whatChanged: 'Orbital Compute lunar data centre is live.',
          whyItMatters: null,
          whatToDoNext: null,
        },
        publishedAt: at('2027-01-01'),
        timeline: [
          { date: '2026-12-15', event: 'Opening announced' },
          { date: '2026-12-29', event: 'First customer workloads' },
          { date: '2027-01', event: 'Month only' },
        ],
      }),
      makeStory({
        id: 'other-event',
        title: 'Harbor Robotics raises money for warehouse arms',
        tldr: { whatChanged: 'Harbor Robotics raised a round.', whyItMatters: null, whatToDoNext: null },
        publishedAt: at('2027-01-01'),
        timeline: [{ date: '2026-12-30', event: 'Round closed' }],
      }),
    ];
    await seed(stories);
    const send = async (week: string, now: string) => {
      await buildIssue(db, { ...options, week, now: at(now), publicUrl: 'https://recap.example.com' });
      await db
        .updateTable('issues')
        .set({ status: 'sent', send_started_at: at(now) })
        .where('week', '=', week)
        .execute();
    };
    await send('2026-W51', '2026-12-21');
    await send('2026-W52', '2026-12-28');
    const build = await buildIssue(db, {
      ...options,
      week: '2026-W53',
      now: at('2027-01-04'),
      publicUrl: 'https://recap.example.com',
    });
    const items = build.content.sections.flatMap((s) => s.stories);
    const update = items.find((i) => i.story.id === 'orbit-later')?.update;
    expect(update).toMatchObject({
      storyId: 'orbit-first',
      week: '2026-W51',
      title: 'Orbital Compute opens lunar data centre',
      url: 'https://recap.example.com/archive/2026-W51',
      since: '2026-12-20',
      newEvents: [{ date: '2026-12-29', event: 'First customer workloads' }],
    });
    expect(items.find((i) => i.story.id === 'other-event')?.update).toBeUndefined();
    // `recap issue build --json` says it too.
    const reported = build.report.segments.flatMap((s) => s.stories).find((s) => s.id === 'orbit-later');
    expect(reported?.update?.storyId).toBe('orbit-first');
    // The earlier coverage link is one of the issue's tracked links, and the card shows it.
    expect(issueLinks(build.content)).toContainEqual(
      expect.objectContaining({ url: 'https://recap.example.com/archive/2026-W51', kind: 'earlier' }),
    );
    const outline = recapOutline(editionFor(build.content, ['researchers']), { readingBudget: false });
    const card = [...outline.sections.flatMap((s) => s.cards), outline.hero].find(
      (c) => c?.storyId === 'orbit-later',
    );
    expect(card?.update).toMatchObject({
      label: 'Update',
      heading: 'What changed since 20 Dec 2026',
      earlierUrl: 'https://recap.example.com/archive/2026-W51',
      earlierLabel: 'Earlier coverage, 14–20 Dec 2026',
    });
    expect(outline.urls).toContain('https://recap.example.com/archive/2026-W51');
    // Frozen at approval: the snapshot keeps the update.
    await approveIssue(db, '2026-W53', { timeZone: 'UTC', allowEmpty: true, reason: 'test' });
    const frozen = await loadIssueContent(db, '2026-W53', 'UTC');
    const snapshot = await db
      .selectFrom('issues')
      .select('content_snapshot')
      .where('week', '=', '2026-W53')
      .executeTakeFirstOrThrow();
    expect(snapshot.content_snapshot).not.toBeNull();
    expect(
      frozen?.sections.flatMap((s) => s.stories).find((i) => i.story.id === 'orbit-later')?.update,
    ).toEqual(update);
  });

  it('returns null for a week without an issue', async () => {
    expect(await loadIssueContent(db, '2026-W10', 'UTC')).toBeNull();
  });
});

describe('build settings from the configuration', () => {
  it('carry the source authority table, so every caller ranks with RECAP_SOURCE_AUTHORITY_FILE', async () => {
    const selection = { storiesPerSegment: 7, minStoriesPerSegment: 3 };
    const zeroes = { Reuters: 0, 'Financial Times': 0, Nature: 0, 'The Verge': 0 };
    const settings = buildSettingsOf({ timeZone: 'UTC', selection: { ...selection, authority: zeroes } });
    expect(settings).toEqual({ timeZone: 'UTC', ...selection, authority: zeroes });
    expect(buildSettingsOf({ timeZone: 'UTC', selection })).not.toHaveProperty('authority');
    // A week of its own (2026-W50), still a draft: rebuilt once per settings.
    const outlets = ['Reuters', 'Financial Times', 'Nature', 'The Verge'];
    await seed(
      outlets.map((name, i) =>
        makeStory({
          id: `authority-${i}`,
          title: `Distinct event number ${i} about ${name}`,
          source: { name, url: null },
          publishedAt: new Date(`2026-12-${String(8 + i).padStart(2, '0')}T10:00:00Z`),
        }),
      ),
    );
    const authorityScores = async (from: typeof settings) => {
      const built = await buildIssue(db, {
        ...from,
        week: '2026-W50',
        now: new Date('2026-12-14T07:00:00Z'),
      });
      return built.report.segments.flatMap((s) => s.stories.map((i) => i.scoreBreakdown.authority));
    };
    const ranked = await authorityScores(buildSettingsOf({ timeZone: 'UTC', selection }));
    expect(ranked.some((score) => (score ?? 0) > 0)).toBe(true);
    const flattened = await authorityScores(settings);
    expect(flattened.length).toBeGreaterThan(0);
    expect(flattened.every((score) => score === 0)).toBe(true);
  });
});
