import { RATING_QUESTION, RATING_WORDS, STORY_VOTE_WORDS } from './feedback-words.ts';
import type { CardOutline, RecapOutline } from './recap-outline.ts';

const WIDTH = 72;

/** Wraps words to 72 columns; `first` prefixes the first line, `rest` the following ones. Long words stay whole. */
export function wrap(text: string, first = '', rest = first): string {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const candidate = empty ? `${line}${word}` : `${line} ${word}`;
    if (!empty && [...candidate].length > WIDTH) {
      lines.push(line);
      line = `${rest}${word}`;
    } else {
      line = candidate;
    }
    empty = false;
  }
  lines.push(line);
  return lines.join('\n');
}

const underline = (title: string, mark: '=' | '-'): string => `${title}\n${mark.repeat([...title].length)}`;

/** What the per-recipient values of the plain-text part are. */
export interface PlainTextLinks {
  greeting: string | null;
  viewInBrowserUrl: string | null;
  unsubscribeUrl: string | null;
  preferencesUrl: string | null;
  archiveUrl: string;
  hrefOf: (url: string) => string;
  /**
   * Appended to a story's card (null or absent: nothing): its feedback text (storyFeedbackText) or a
   * template slot for it. Appended with no separator, so an empty value leaves no trace.
   */
  feedbackOf?: (storyId: string) => string | null;
  /** Appended after the last section before the footer rule, likewise: issueRatingText or a slot. */
  rating?: string | null;
}

/** A story's feedback links in the plain-text part, as appended to its card (starts with a blank line). */
export function storyFeedbackText(more: string, less: string): string {
  return `\n\n${STORY_VOTE_WORDS.more}:\n${more}\n${STORY_VOTE_WORDS.less}:\n${less}`;
}

/** "How was this issue?" and its three links, as appended before the footer (starts with a blank line). */
export function issueRatingText(urls: readonly [string, string, string]): string {
  return `\n\n${RATING_QUESTION}\n${RATING_WORDS.map((word, index) => `${word}:\n${urls[index]}`).join('\n')}`;
}

function card(outline: CardOutline, hrefOf: (url: string) => string): string[] {
  const blocks: string[] = [
    wrap(outline.update ? `${outline.update.label}: ${outline.title}` : outline.title),
  ];
  if (outline.kicker.length > 0) blocks[0] += `\n${wrap(outline.kicker.join(' · '))}`;
  if (outline.hook) blocks[0] += `\n${wrap(outline.hook)}`;
  if (outline.tldr.length > 0)
    blocks.push(
      outline.tldr
        .map((line) => wrap(outline.compact ? line.text : `${line.label}: ${line.text}`))
        .join('\n'),
    );
  if (outline.update) blocks.push(...updateBlocks(outline.update, hrefOf));
  if (outline.takeaways.length > 0) {
    blocks.push(
      ['Key takeaways:', ...outline.takeaways.map((item) => wrap(item, '  * ', '    '))].join('\n'),
    );
  }
  const notes = [
    outline.whoShouldCare ? wrap(`Who should care: ${outline.whoShouldCare}`) : null,
    outline.alsoCoveredBy ? wrap(`Also covered by ${outline.alsoCoveredBy}`) : null,
  ].filter((note): note is string => note !== null);
  if (notes.length > 0) blocks.push(notes.join('\n'));
  if (outline.related.length > 0) {
    blocks.push(
      [
        'Related:',
        ...outline.related.map((link) => `${wrap(link.title, '  * ', '    ')}\n    ${hrefOf(link.url)}`),
      ].join('\n'),
    );
  }
  if (outline.url) blocks.push(`${outline.cta}:\n${hrefOf(outline.url)}`);
  return blocks;
}

/** An update card's "What changed since …" lines and its link to the earlier coverage. */
function updateBlocks(update: NonNullable<CardOutline['update']>, hrefOf: (url: string) => string): string[] {
  const blocks: string[] = [];
  if (update.heading && update.changes.length > 0) {
    blocks.push(
      [
        `${update.heading}:`,
        ...update.changes.map((line) => wrap(`${line.date}: ${line.event}`, '  * ', '    ')),
      ].join('\n'),
    );
  }
  if (update.earlierUrl) blocks.push(`${update.earlierLabel}:\n${hrefOf(update.earlierUrl)}`);
  return blocks;
}

/** The editor's note: each paragraph wrapped, each link's URL on a line of its own after its text. */
function noteBlocks(outline: RecapOutline, hrefOf: (url: string) => string): string[] {
  return outline.note.map((parts) => {
    const lines: string[] = [];
    let text = '';
    for (const part of parts) {
      if (part.kind === 'text') {
        text += part.text;
        continue;
      }
      if (part.text !== part.url) text += part.text;
      if (text.trim() !== '') lines.push(wrap(text.trim()));
      lines.push(hrefOf(part.url));
      text = '';
    }
    if (text.trim() !== '') lines.push(wrap(text.trim()));
    return lines.join('\n');
  });
}

/**
 * The plain-text part: the same order and words as the HTML, wrapped at 72 columns, every link a full
 * URL on its own line, section titles underlined. Per-recipient values sit on lines of their own so a
 * template of this text can be personalised without re-wrapping.
 */
export function plainText(
  outline: RecapOutline,
  postalAddress: string,
  links: PlainTextLinks,
  /**
   * Story block boundaries for a template (see EditionTemplate): `mark` goes right after the card before
   * each card of a section's run (`runs`: section slug -> index of its first movable card) and right after
   * the run's last card, so every block is a blank line, "· · ·", a blank line and the card, whatever
   * order the blocks are put in; what the section's end gets appended stays after the run.
   */
  storyBlocks?: { mark: string; runs: ReadonlyMap<string, number> },
): string {
  const blocks: string[] = [underline('WEEKLY AI RECAP', '='), `${outline.weekRange} · ${outline.summary}`];
  if (links.viewInBrowserUrl) blocks.push(`View in browser:\n${links.viewInBrowserUrl}`);
  blocks.push(
    [
      links.greeting,
      wrap(
        links.greeting === null
          ? 'Here is what happened in AI this week.'
          : 'Here is what happened in AI this week, picked for the topics you follow.',
      ),
    ]
      .filter((line): line is string => line !== null)
      .join('\n'),
  );
  if (outline.note.length > 0) blocks.push(...noteBlocks(outline, links.hrefOf));
  const withFeedback = (storyId: string, cardBlocks: string[]): string[] => {
    const feedback = links.feedbackOf?.(storyId);
    if (feedback) cardBlocks[cardBlocks.length - 1] += feedback;
    return cardBlocks;
  };
  if (outline.hero)
    blocks.push(
      underline('TOP STORY', '-'),
      ...withFeedback(outline.hero.storyId, card(outline.hero, links.hrefOf)),
    );
  else blocks.push(wrap('No stories for your topics this week. We will be back next Monday.'));
  for (const section of outline.sections) {
    blocks.push(underline(section.title.toUpperCase(), '-'));
    const run = storyBlocks?.runs.get(section.slug);
    section.cards.forEach((item, index) => {
      if (index > 0) blocks.push('· · ·');
      blocks.push(...withFeedback(item.storyId, card(item, links.hrefOf)));
      // Right after all the card wrote: the start of the run's next card, or the run's end.
      if (storyBlocks && run !== undefined && index >= run - 1) blocks[blocks.length - 1] += storyBlocks.mark;
    });
  }
  blocks.push(...afterSections(outline, links.hrefOf));
  if (links.rating) blocks[blocks.length - 1] += links.rating;
  blocks.push('-'.repeat(WIDTH), footerText(outline, postalAddress, links));
  return `${blocks.join('\n\n')}\n`;
}

/** "What to watch" and "Developing stories": what follows the sections. */
function afterSections(outline: RecapOutline, hrefOf: PlainTextLinks['hrefOf']): string[] {
  const out: string[] = [];
  if (outline.watch.length > 0) {
    out.push(
      underline('WHAT TO WATCH', '-'),
      outline.watch
        .map((item) =>
          wrap(item.rationale ? `${item.prediction} ${item.rationale}` : item.prediction, '  * ', '    '),
        )
        .join('\n\n'),
    );
  }
  if (outline.developing.length > 0) {
    out.push(underline('DEVELOPING STORIES', '-'));
    for (const item of outline.developing) {
      const line = wrap(
        `${item.title}${item.date ? ` — ${item.date}: ` : ' — '}${item.event}`,
        '  * ',
        '    ',
      );
      out.push(item.url ? `${line}\n    ${hrefOf(item.url)}` : line);
    }
  }
  return out;
}

/** Why the reader gets it, their links, the postal address. */
function footerText(outline: RecapOutline, postalAddress: string, links: PlainTextLinks): string {
  const footer = [
    wrap(
      links.unsubscribeUrl === null
        ? outline.followed
          ? `This edition of Weekly AI Recap was written for ${outline.followed}.`
          : 'An edition of Weekly AI Recap.'
        : outline.followed
          ? `You receive Weekly AI Recap because you subscribed to ${outline.followed}.`
          : 'You receive Weekly AI Recap because you subscribed to it.',
    ),
  ];
  if (links.preferencesUrl) footer.push(`Manage preferences:\n${links.preferencesUrl}`);
  if (links.unsubscribeUrl) footer.push(`Unsubscribe:\n${links.unsubscribeUrl}`);
  footer.push(`Past issues:\n${links.archiveUrl}`);
  footer.push(wrap(postalAddress));
  footer.push(wrap('AI-curated news digest. All content rights belong to original publishers.'));
  return footer.join('\n\n');
}
