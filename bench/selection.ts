/**
 * Selection over a large week: n stories, 10 segments, top 7 per segment, with four earlier issues to
 * find updates in and eight issues of engagement history per segment. Prints a markdown table.
 * Run: npx tsx bench/selection.ts
 */
import { clusterStories } from '../src/selection/cluster-stories.ts';
import { selectIssue } from '../src/selection/select-issue.ts';
import type { EarlierIssue, Engagement, FeatureCounts } from '../src/selection/selection.ts';
import { selectionConfig } from '../src/selection/selection-config.ts';
import { storyFeatures } from '../src/selection/story-features.ts';
import { generateWeek } from '../test/selection/week-generator.ts';

const segmentNames = [
  'Founders & Product Leaders',
  'Engineers & Developers',
  'Researchers',
  'Investors',
  'Policy & Legal',
  'Healthcare',
  'Finance',
  'Education',
  'Security',
  'Design & Creative',
];
const segments = segmentNames.map((name, i) => ({ id: i + 1, name, slug: `segment-${i + 1}` }));
const config = selectionConfig();
const runs = 5;

// A history like a real one: four earlier issues of 70 stories (updates are matched against them), and
// per segment the engagement of eight issues' stories (clicks and votes on their sources and topics).
const past = generateWeek({ seed: 2025, events: 600, segments: segmentNames }).stories;
const earlier: EarlierIssue[] = [0, 1, 2, 3].map((i) => ({
  issueId: 100 - i,
  week: `2026-W${47 - i}`,
  sentOn: `2026-11-${String(23 - 7 * i).padStart(2, '0')}`,
  url: `https://recap.example.com/archive/2026-W${47 - i}`,
  stories: past.slice(i * 70, (i + 1) * 70),
}));
let seed = 7;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
};
const engagement: Engagement = {
  bySegment: Object.fromEntries(
    segmentNames.map((name, s) => {
      const features: Record<string, FeatureCounts> = {};
      const total: FeatureCounts = { exposure: 0, clicks: 0, more: 0, less: 0 };
      for (const story of past.slice(s * 56, s * 56 + 560)) {
        const counts = {
          exposure: 1000,
          clicks: Math.floor(random() * 60),
          more: Math.floor(random() * 5),
          less: Math.floor(random() * 4),
        };
        const f = storyFeatures(story);
        for (const key of [f.source, ...f.topics]) {
          const known = features[key] ?? { exposure: 0, clicks: 0, more: 0, less: 0 };
          features[key] = known;
          for (const k of ['exposure', 'clicks', 'more', 'less'] as const) known[k] += counts[k];
        }
        for (const k of ['exposure', 'clicks', 'more', 'less'] as const) total[k] += counts[k];
      }
      return [name, { features, total }];
    }),
  ),
};

function measure(body: () => void): { median: number; min: number; max: number } {
  body(); // warm-up: JIT and lazy initialisation are not what we measure
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    body();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return {
    median: times[Math.floor(runs / 2)] as number,
    min: times[0] as number,
    max: times[runs - 1] as number,
  };
}

const rows: string[] = [];
for (const target of [1_000, 10_000]) {
  let events = Math.ceil(target / 2.2);
  let week = generateWeek({ seed: 2026, events, segments: segmentNames });
  while (week.stories.length < target) {
    events += 50;
    week = generateWeek({ seed: 2026, events, segments: segmentNames });
  }
  const stories = week.stories.slice(0, target);
  let clusters = 0;
  const clustering = measure(() => {
    clusters = clusterStories(stories, config.clusterThreshold).clusters.length;
  });
  let picked = 0;
  const selection = measure(() => {
    const result = selectIssue({
      week: '2026-W48',
      timeZone: 'UTC',
      now: new Date('2026-11-30T07:00:00Z'),
      segments,
      stories,
      earlier,
      overrides: [],
      engagement,
      config,
    });
    picked = result.segments.reduce((n, s) => n + s.stories.length, 0);
  });
  const ms = (value: number) => `${value.toFixed(0)} ms`;
  rows.push(
    `| ${stories.length.toLocaleString('en-US')} | ${segments.length} | ${clusters.toLocaleString('en-US')} | ${picked} | ${ms(clustering.median)} | ${ms(selection.median)} (${ms(selection.min)}–${ms(selection.max)}) | ${selection.median < 1000 ? 'yes' : 'no'} |`,
  );
}

process.stdout.write(
  [
    `Selection benchmark (Node ${process.version}, ${runs} runs after a warm-up, median with min–max)`,
    '',
    '| stories | segments | events (clusters) | stories picked | clustering | whole selection | under 1 s |',
    '|--:|--:|--:|--:|--:|--:|:-:|',
    ...rows,
    '',
  ].join('\n'),
);
