import { describe, expect, it } from 'vitest';
import { clusterStories } from '../../src/selection/cluster-stories.ts';
import { defaultSelectionConfig } from '../../src/selection/selection-config.ts';
import type { Story } from '../../src/stories/story.ts';
import { makeStory } from './story-factory.ts';
import { generateWeek, seededRandom } from './week-generator.ts';

const threshold = defaultSelectionConfig.clusterThreshold;
const tldr = (whatChanged: string) => ({ whatChanged, whyItMatters: null, whatToDoNext: null });

const nimbus = [
  makeStory({
    id: 'verge-nimbus',
    title: 'Nimbus Labs releases Nimbus-5 with a two-million-token context window',
    source: { name: 'The Verge', url: null },
    tldr: tldr(
      'Nimbus Labs launched Nimbus-5, its largest model, with a two-million-token context window and lower prices.',
    ),
  }),
  makeStory({
    id: 'tc-nimbus',
    title: 'Nimbus-5: Nimbus Labs ships its biggest model yet',
    source: { name: 'TechCrunch', url: null },
    tldr: tldr(
      'The new Nimbus-5 model from Nimbus Labs handles two million tokens of context at a lower price.',
    ),
  }),
  makeStory({
    id: 'bloomberg-nimbus-funding',
    title: 'Nimbus Labs raises $2B at a $40B valuation',
    source: { name: 'Bloomberg', url: null },
    tldr: tldr('Nimbus Labs closed a $2B funding round led by Granite Capital.'),
  }),
  makeStory({
    id: 'politico-ai-act',
    title: 'EU AI Act: Commission publishes guidance for general-purpose models',
    source: { name: 'Politico', url: null },
    tldr: tldr(
      'The European Commission published compliance guidance for general-purpose AI model providers.',
    ),
  }),
  makeStory({
    id: 'reuters-ai-act',
    title: 'Brussels sets out how AI Act applies to general-purpose models',
    source: { name: 'Reuters', url: null },
    tldr: tldr(
      'The European Commission issued guidance on AI Act duties for general-purpose model providers.',
    ),
  }),
];

const groups = (stories: Parameters<typeof clusterStories>[0]) =>
  clusterStories(stories, threshold)
    .clusters.map((c) => c.members.map((m) => m.id).join('+'))
    .sort();

describe('same-event clustering', () => {
  it('groups reworded headlines of one event and keeps another event of the same company apart', () => {
    expect(groups(nimbus)).toEqual([
      'bloomberg-nimbus-funding',
      'politico-ai-act+reuters-ai-act',
      'tc-nimbus+verge-nimbus',
    ]);
  });

  it('groups the same canonical URL and the same normalised headline whatever the wording around them', () => {
    const stories = [
      makeStory({
        id: 'x1',
        title: 'Completely different words',
        url: 'https://www.site.example/a?utm_source=mail',
      }),
      makeStory({ id: 'x2', title: 'Nothing alike at all here', url: 'https://site.example/a/' }),
      makeStory({ id: 'y1', title: 'Orbit-2 Is Out!', source: { name: 'A', url: null } }),
      makeStory({ id: 'y2', title: 'orbit 2 is out', source: { name: 'B', url: null } }),
    ];
    expect(groups(stories)).toEqual(['x1+x2', 'y1+y2']);
    const clustering = clusterStories(stories, threshold);
    expect(clustering.clusterOf.get('x2')?.outlets).toEqual(['Example News']);
  });

  it('recovers the known events of a generated week, in any input order', () => {
    const week = generateWeek({ seed: 11, events: 60 });
    const expected = week.events.map((ids) => ids.join('+')).sort();
    expect(groups(week.stories)).toEqual(expected);
    const random = seededRandom(5);
    const shuffled = [...week.stories].sort(() => random() - 0.5);
    expect(groups(shuffled)).toEqual(expected);
  });

  it('matches a reference story to the week cluster that reports the same event without merging clusters', () => {
    const [verge, tc, funding] = nimbus as [Story, Story, Story];
    const clustering = clusterStories([tc, funding], threshold, [verge]);
    expect(clustering.clusters).toHaveLength(2);
    expect(clustering.matchesOf('verge-nimbus')).toEqual(['c:tc-nimbus']);
  });
});
