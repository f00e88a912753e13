import { randomBytes } from 'node:crypto';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { IssueRatingLinks, StoryFeedback } from '../../emails/components/feedback-links.tsx';
import WeeklyRecap, {
  HoneypotLink,
  type PersonalLinks,
  type RecapFeedback,
  TrackingPixel,
  withOutlookGhostTable,
} from '../../emails/weekly-recap.tsx';
import type { Edition } from '../issues/issue-content.ts';
import {
  FEEDBACK_LINK_LIMIT,
  signRecipientTokens,
  type TokenSecrets,
  tokenToLocalPart,
} from '../tracking/token.ts';
import { editionArchiveUrl } from './archive-url.ts';
import { escapeHtml } from './html-escape.ts';
import { HONEYPOT_URL } from './issue-links.ts';
import { blockRuns, type MovableSection, movableStories, orderOutline } from './movable-stories.ts';
import { issueRatingText, plainText, storyFeedbackText } from './plain-text.ts';
import { type LeftOut, type RecapOutline, recapOutline } from './recap-outline.ts';
import {
  type EmailFrame,
  fillSlotted,
  type Recipient,
  type RenderedMessage,
  type SlottedText,
  withParts,
} from './rendered-message.ts';

const DOCTYPE =
  '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">';

// Slot numbers inside a template: the fixed per-recipient parts, then one per link of the edition.
const GREETING = 0;
const UNSUBSCRIBE = 1;
const PREFERENCES = 2;
const PIXEL = 3;
const HONEYPOT = 4;
/** Every story block boundary (always empty): where a reader's own order may cut the template. */
const STORY_BLOCK = 5;
const FIRST_LINK = 6;

/**
 * The issue-wide position of a link of the edition (the registry's, see issueLinks). Every URL an
 * outline shows is in the registry: a miss is a bug, never a reason to sign a token for another link.
 */
function positionIn(edition: Edition, url: string): number {
  const position = edition.linkPositions.get(url);
  if (position === undefined) throw new Error(`issue ${edition.issueId}: link ${url} is not in its registry`);
  return position;
}

/**
 * The stories of an outline that get "More / Less like this" links, in reading order, each once: those
 * with their own link in the issue's registry (a vote names its story by that link's position).
 * Positions of the older hashed scheme may be too large for a vote token: those stories get none.
 */
function feedbackStoriesOf(edition: Edition, outline: RecapOutline): FeedbackStory[] {
  const stories: FeedbackStory[] = [];
  const seen = new Set<string>();
  const cards = [...(outline.hero ? [outline.hero] : []), ...outline.sections.flatMap((s) => s.cards)];
  for (const card of cards) {
    if (!card.url || seen.has(card.storyId)) continue;
    const position = edition.linkPositions.get(card.url);
    if (position === undefined || position >= FEEDBACK_LINK_LIMIT) continue;
    seen.add(card.storyId);
    stories.push({ storyId: card.storyId, position });
  }
  return stories;
}

/** A story with feedback links and the issue-wide position of its own link. */
export interface FeedbackStory {
  storyId: string;
  position: number;
}

/** The positions to sign for an edition's links, then the hidden scanner link's. */
function signedPositionsOf(edition: Edition, urls: readonly string[]): number[] {
  return [...urls.map((url) => positionIn(edition, url)), positionIn(edition, HONEYPOT_URL)];
}

/**
 * One edition rendered once for every reader of the same (issue, segment set): the HTML and the text
 * cut into literal parts around the per-recipient slots. The slots were found at render time by a
 * random per-render marker, so story text that looks like a placeholder stays literal text.
 */
export interface EditionTemplate {
  issueId: number;
  week: string;
  segmentKey: string;
  subject: string;
  html: SlottedText;
  text: SlottedText;
  /** The pixel markup around its URL. */
  pixel: [string, string];
  /** The hidden scanner link's markup around its URL. */
  honeypot: [string, string];
  /** The edition's links (slot FIRST_LINK + i): original URL, the same HTML-escaped, issue-wide position. */
  links: Array<{ url: string; escaped: string; position: number }>;
  /** The links' original URLs, in slot order. */
  urls: string[];
  /** The positions to sign per recipient: the links' positions, then the hidden scanner link's. */
  signedPositions: number[];
  /** The story link positions of `feedback.stories`, in order: what the copy's vote tokens are signed for. */
  feedbackStoryLinks: number[];
  /** The read time the masthead shows. */
  minutes: number;
  /** What the reading budget and the size guard left out of this edition. */
  leftOut: LeftOut[];
  /** Per section, the stories a reader's own order may move (compact, unpinned, after the first). */
  movable: MovableSection[];
  /** Where the movable stories' blocks lie in `html` and `text`, for `personalise` with an order. */
  storyBlocks: StoryBlocks;
  /**
   * The feedback links' slots: story j's line is slot FIRST_LINK + links.length + j, the rating block the
   * slot after. Their markup lives in the slot values (`storyHtml` / `ratingHtml` around the URLs), so a
   * copy without feedback links (a test send) leaves no trace and every renderer shares one size decision.
   */
  feedback: {
    stories: FeedbackStory[];
    /** Story line markup around its "more" and "less" URLs. */
    storyHtml: [string, string, string];
    /** Rating block markup around its three URLs. */
    ratingHtml: [string, string, string, string];
  };
  /**
   * Bytes of the HTML of a tracked copy (with the hidden scanner link) for the longest recipient values:
   * what the size guard checked, whatever this renderer's tracking settings.
   */
  htmlBytes: number;
}

/** Gmail clips a message whose HTML passes about 102 KB; the default guard leaves room below that. */
export const DEFAULT_MAX_HTML_BYTES = 90 * 1024;

/** The reader the size guard measures with: the longest values a personal copy can carry. */
const largestReader: Recipient = {
  subscriberId: '9'.repeat(19),
  email: 'size@example.invalid',
  name: 'W'.repeat(40),
  trackingEnabled: true,
};

/**
 * The story blocks of a template: per section with movable stories, the run of cards from its first
 * movable one to its end, each card one block of segments (see SlottedFill.sequence) in the HTML and in
 * the text. A reader's order only changes which block goes where; pinned cards inside the run stay.
 */
export interface StoryBlocks {
  /** Movable story id -> its index in the flat list of every section's movable stories. */
  index: ReadonlyMap<string, number>;
  /** Section of each flat index. */
  sectionOf: Uint16Array;
  sections: StoryBlockSection[];
  /** The editorial sequences (0, 1, 2, …), copied per reordered copy. */
  htmlIdentity: Uint32Array;
  textIdentity: Uint32Array;
}

export interface StoryBlockSection {
  /** Flat index of the section's first movable story (its movable stories follow in editorial order). */
  offset: number;
  /** Run position of each movable story, in editorial order. */
  movablePositions: Uint16Array;
  /** 1 where the block at a run position is a movable story, 0 for a pinned card that stays. */
  movableAt: Uint8Array;
  /** First segment of each block, then the segment of the run's end mark: blocks + 1 entries. */
  htmlStarts: Uint32Array;
  textStarts: Uint32Array;
}

export interface EditionRenderer {
  /** Renders an edition once (React, synchronous); the result serves every reader of its segment set. */
  template(edition: Edition): EditionTemplate;
  /**
   * One reader's copy: a single pass of concatenation plus token signing. Never renders React. `order`:
   * the reader's own order of movable story ids (see orderOutline: unknown ids ignored, the movable
   * stories it omits keep their editorial order after it, nothing else moves); only the sequence of
   * the template's segments changes. Null, absent or the editorial order: the editorial copy, byte for byte.
   */
  personalise(
    template: EditionTemplate,
    recipient: Recipient,
    order?: readonly string[] | null,
  ): RenderedMessage;
  /** The copy for the web archive ("view in browser"): original links, no personal links, no pixel. */
  archiveCopy(edition: Edition): RenderedMessage;
  /** A full React render for one reader: the reference `personalise` must equal byte for byte. Slow. */
  renderFor(edition: Edition, recipient: Recipient, order?: readonly string[] | null): RenderedMessage;
}

interface RecipientValues {
  /** The copy's feedback URLs (per feedback story, then the ratings 1–3); null: the copy carries none. */
  feedback: { stories: Array<{ more: string; less: string }>; ratings: [string, string, string] } | null;
  greeting: string;
  unsubscribeUrl: string;
  preferencesUrl: string;
  pixelUrl: string | null;
  honeypotUrl: string | null;
  /** Href per link of the edition, in the order of `urls`. */
  hrefs: string[];
  unsubscribeToken: string;
}

/** "Hi Anna," from "Anna Müller"; "Hi there," without a usable name. */
export function greetingFor(name: string | null): string {
  const first = (name ?? '')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: names are shown, control characters are not
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')
    .trim()
    .split(/\s+/)[0]
    ?.slice(0, 40);
  return first ? `Hi ${first},` : 'Hi there,';
}

function slotted(rendered: string, marker: RegExp, expectedMax: number): SlottedText {
  const pieces = rendered.split(marker);
  const literals: string[] = [];
  const slots: number[] = [];
  pieces.forEach((piece, index) => {
    if (index % 2 === 0) literals.push(piece);
    else {
      const slot = Number(piece);
      if (slot >= expectedMax) throw new Error(`unknown template slot ${slot}`);
      slots.push(slot);
    }
  });
  return { literals, slots };
}

/**
 * The story blocks of a template, from where its STORY_BLOCK slots fell: in each of `runs`' sections
 * (outline order), one mark before each card of the run and one after its last, in HTML and text alike.
 */
function storyBlocksOf(
  outline: Pick<RecapOutline, 'sections'>,
  movable: readonly MovableSection[],
  runs: ReadonlyMap<string, number>,
  html: SlottedText,
  text: SlottedText,
): StoryBlocks {
  const marksOf = (part: SlottedText) =>
    part.slots.flatMap((slot, segment) => (slot === STORY_BLOCK ? [segment] : []));
  const htmlMarks = marksOf(html);
  const textMarks = marksOf(text);
  const index = new Map<string, number>();
  const sectionOf: number[] = [];
  const sections: StoryBlockSection[] = [];
  let mark = 0;
  for (const section of outline.sections) {
    const run = runs.get(section.slug);
    const ids = movable.find((entry) => entry.segmentSlug === section.slug)?.storyIds;
    if (run === undefined || !ids) continue;
    const cards = section.cards.slice(run);
    const offset = sectionOf.length;
    for (const id of ids) {
      index.set(id, sectionOf.length);
      sectionOf.push(sections.length);
    }
    const count = cards.length + 1;
    sections.push({
      offset,
      movablePositions: Uint16Array.from(ids, (id) => cards.findIndex((card) => card.storyId === id)),
      movableAt: Uint8Array.from(cards, (card) => (ids.includes(card.storyId) ? 1 : 0)),
      htmlStarts: Uint32Array.from(htmlMarks.slice(mark, mark + count)),
      textStarts: Uint32Array.from(textMarks.slice(mark, mark + count)),
    });
    mark += count;
  }
  const placed = sections.every(
    (section) =>
      section.htmlStarts.length === section.movableAt.length + 1 &&
      section.textStarts.length === section.movableAt.length + 1 &&
      !section.movablePositions.includes(0xffff),
  );
  if (mark !== htmlMarks.length || mark !== textMarks.length || !placed)
    throw new Error('story block marks do not match the sections of the outline');
  return {
    index,
    sectionOf: Uint16Array.from(sectionOf),
    sections,
    htmlIdentity: Uint32Array.from(html.slots.keys()),
    textIdentity: Uint32Array.from(text.slots.keys()),
  };
}

/** Writes a section's blocks into `sequence` in the arranged order (`arranged`: movable ranks per place). */
function placeBlocks(
  sequence: Uint32Array,
  starts: Uint32Array,
  section: StoryBlockSection,
  arranged: Int32Array,
): void {
  let cursor = starts[0] as number;
  let next = section.offset;
  for (let position = 0; position < section.movableAt.length; position++) {
    const from = section.movableAt[position]
      ? (section.movablePositions[arranged[next++] as number] as number)
      : position;
    const end = starts[from + 1] as number;
    for (let segment = starts[from] as number; segment < end; segment++) sequence[cursor++] = segment;
  }
}

/**
 * The segment sequences of one reader's order, or null when it leaves every section in editorial order.
 * Allocation-light (typed arrays sized by the movable stories): it runs once per reordered copy.
 */
function sequencesFor(
  blocks: StoryBlocks,
  order: readonly string[],
): { html: Uint32Array; text: Uint32Array } | null {
  const total = blocks.sectionOf.length;
  if (total === 0) return null;
  const taken = new Uint8Array(total);
  // Per flat place: the editorial rank (within its section) of the story put there.
  const arranged = new Int32Array(total);
  const filled = new Int32Array(blocks.sections.length);
  for (const id of order) {
    const flat = blocks.index.get(id);
    if (flat === undefined || taken[flat]) continue;
    taken[flat] = 1;
    const s = blocks.sectionOf[flat] as number;
    const section = blocks.sections[s] as StoryBlockSection;
    arranged[section.offset + (filled[s] as number)] = flat - section.offset;
    filled[s] = (filled[s] as number) + 1;
  }
  let html: Uint32Array | null = null;
  let text: Uint32Array | null = null;
  for (let s = 0; s < blocks.sections.length; s++) {
    const section = blocks.sections[s] as StoryBlockSection;
    const count = section.movablePositions.length;
    let place = section.offset + (filled[s] as number);
    for (let rank = 0; rank < count; rank++) if (!taken[section.offset + rank]) arranged[place++] = rank;
    let editorial = true;
    for (let rank = 0; rank < count && editorial; rank++)
      editorial = arranged[section.offset + rank] === rank;
    if (editorial) continue;
    html ??= blocks.htmlIdentity.slice();
    text ??= blocks.textIdentity.slice();
    placeBlocks(html, section.htmlStarts, section, arranged);
    placeBlocks(text, section.textStarts, section, arranged);
  }
  return html && text ? { html, text } : null;
}

/**
 * Builds the renderer of recap editions. Link positions come from the edition's `linkPositions`, taken
 * from the issue-wide registry (`issueLinks`), so click tokens resolve to the registered URLs.
 */
// Long: a factory whose closures share the compiled template, the link table and the size budget of one edition.
export function createEditionRenderer(options: {
  frame: EmailFrame;
  secrets: TokenSecrets;
  trackingEnabled: boolean;
  /**
   * Adds the hidden scanner link (issueLinks' kind 'honeypot') to tracked copies. Off by default: a
   * consumer that follows every `/c/` link of a copy expecting redirects would meet its 200 page.
   */
  honeypot?: boolean;
  /**
   * Readers' copies carry "More / Less like this" under each story and "How was this issue?" at the end
   * (tracked or not: a vote is recorded only when the reader presses the page's button). Off by default:
   * the editor's preview and test sends carry none. The size guard counts them either way.
   */
  feedback?: boolean;
  /**
   * Gmail clip guard: when a tracked copy's HTML would pass this many bytes, the reading budget's
   * leave-out rule takes further steps until it fits (or nothing is left to take). Default 90 KB.
   */
  maxHtmlBytes?: number;
}): EditionRenderer {
  const { frame, secrets } = options;
  const publicUrl = frame.publicUrl.replace(/\/+$/, '');
  const archiveUrl = `${publicUrl}/archive`;
  const mailDomain = frame.unsubscribeMailDomain ?? frame.listIdDomain;
  const listId = `${frame.senderName.replace(/[<>"\r\n]/g, '')} <${frame.listIdDomain}>`;
  const frameProps = { publicUrl, postalAddress: frame.postalAddress };
  // Our own links are the public URL, a path and a token of URL-safe characters: when the public URL
  // needs no escaping, neither do they (a test per link per copy saved in the send loop).
  const escapeOurUrl = escapeHtml(publicUrl) === publicUrl ? (url: string) => url : escapeHtml;

  /** `signedPositions`: the positions of `urls`, then the hidden scanner link's. */
  function valuesFor(
    issueId: number,
    urls: readonly string[],
    signedPositions: readonly number[],
    feedbackStoryLinks: readonly number[],
    recipient: Recipient,
    /**
     * The size guard measures every copy as tracked and with feedback links, so every renderer (send,
     * editor, archive) decides alike.
     */
    measuring = false,
  ): RecipientValues {
    const subscriberId = recipient.subscriberId;
    const tracking = measuring || (options.trackingEnabled && recipient.trackingEnabled);
    const withFeedback = measuring || options.feedback === true;
    // One AES pass signs every token of the copy; tracking off still needs unsubscribe and preferences.
    const tokens = signRecipientTokens(
      secrets,
      subscriberId,
      issueId,
      tracking ? signedPositions : [],
      withFeedback ? feedbackStoryLinks : undefined,
    );
    const feedbackUrl = (token: string) => `${publicUrl}/f/${token}`;
    const unsubscribeToken = tokens.unsubscribe;
    const clicks = tracking ? tokens.clicks : null;
    const honeypotToken = clicks?.pop();
    const withHoneypot = (measuring || options.honeypot === true) && honeypotToken !== undefined;
    return {
      feedback: tokens.feedback
        ? {
            stories: tokens.feedback.stories.map((pair) => ({
              more: feedbackUrl(pair.more),
              less: feedbackUrl(pair.less),
            })),
            ratings: tokens.feedback.ratings.map(feedbackUrl) as [string, string, string],
          }
        : null,
      greeting: greetingFor(recipient.name),
      unsubscribeUrl: `${publicUrl}/u/${unsubscribeToken}`,
      preferencesUrl: `${publicUrl}/p/${tokens.preferences}`,
      pixelUrl: tracking ? `${publicUrl}/o/${tokens.open}` : null,
      honeypotUrl: withHoneypot ? `${publicUrl}/c/${honeypotToken}` : null,
      hrefs: clicks ? clicks.map((token) => `${publicUrl}/c/${token}`) : (urls as string[]),
      unsubscribeToken,
    };
  }

  function headersFor(unsubscribeToken: string): Record<string, string> {
    return {
      'List-Unsubscribe': `<${publicUrl}/u/${unsubscribeToken}>, <mailto:unsubscribe+${tokenToLocalPart(unsubscribeToken)}@${mailDomain}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'List-Id': listId,
    };
  }

  function renderHtml(props: Parameters<typeof WeeklyRecap>[0]): string {
    return withOutlookGhostTable(DOCTYPE + renderToStaticMarkup(createElement(WeeklyRecap, props)));
  }

  const maxHtmlBytes = options.maxHtmlBytes ?? DEFAULT_MAX_HTML_BYTES;
  // The size guard's decision per edition, so the template, a full render and the archive copy agree.
  const templates = new WeakMap<Edition, EditionTemplate & { extraCuts: number }>();

  function guardedTemplate(edition: Edition): EditionTemplate & { extraCuts: number } {
    const known = templates.get(edition);
    if (known) return known;
    let extraCuts = 0;
    let built = buildTemplate(edition, extraCuts);
    while (built.htmlBytes > maxHtmlBytes) {
      const next = buildTemplate(edition, extraCuts + 1);
      if (next.extraSteps <= extraCuts) break; // nothing left to leave out
      extraCuts += 1;
      built = next;
    }
    const result = { ...built, extraCuts };
    delete (result as { extraSteps?: number }).extraSteps;
    templates.set(edition, result);
    return result;
  }

  function buildTemplate(edition: Edition, extraCuts: number): EditionTemplate & { extraSteps: number } {
    {
      const outline = recapOutline(edition, { extraCuts });
      const movable = movableStories(edition, outline);
      const runs = blockRuns(outline, movable);
      let nonce = randomBytes(12).toString('hex');
      const serialized = JSON.stringify(edition);
      while (serialized.includes(nonce)) nonce = randomBytes(12).toString('hex');
      const marker = (slot: number) => `ZQ${nonce}Q${slot}QZ`;
      const pattern = new RegExp(`ZQ${nonce}Q(\\d+)QZ`);
      const urls = outline.urls;
      const hrefs: Record<string, string> = {};
      urls.forEach((url, index) => {
        hrefs[url] = marker(FIRST_LINK + index);
      });
      const personal: PersonalLinks = {
        greeting: marker(GREETING),
        unsubscribeUrl: marker(UNSUBSCRIBE),
        preferencesUrl: marker(PREFERENCES),
        pixelUrl: null,
      };
      const feedbackStories = feedbackStoriesOf(edition, outline);
      const firstFeedback = FIRST_LINK + urls.length;
      const feedbackSlot = new Map(
        feedbackStories.map((story, index) => [story.storyId, firstFeedback + index]),
      );
      const ratingSlot = firstFeedback + feedbackStories.length;
      const slotOf = (storyId: string) => {
        const slot = feedbackSlot.get(storyId);
        return slot === undefined ? null : marker(slot);
      };
      const html = renderHtml({
        edition,
        frame: frameProps,
        personal,
        hrefs,
        pixelSlot: marker(PIXEL),
        honeypotSlot: marker(HONEYPOT),
        extraCuts,
        blockMark: marker(STORY_BLOCK),
        feedback: { story: slotOf, rating: marker(ratingSlot) },
      });
      const text = plainText(
        outline,
        frame.postalAddress,
        {
          greeting: marker(GREETING),
          viewInBrowserUrl: editionArchiveUrl(publicUrl, edition.week, edition.segmentKey),
          unsubscribeUrl: marker(UNSUBSCRIBE),
          preferencesUrl: marker(PREFERENCES),
          archiveUrl,
          hrefOf: (url) => hrefs[url] ?? url,
          feedbackOf: slotOf,
          rating: marker(ratingSlot),
        },
        { mark: marker(STORY_BLOCK), runs },
      );
      const cut = (element: Parameters<typeof renderToStaticMarkup>[0]) =>
        slotted(renderToStaticMarkup(element), new RegExp(pattern, 'g'), 3).literals;
      const storyHtml = cut(createElement(StoryFeedback, { more: marker(0), less: marker(1) }));
      const ratingHtml = cut(createElement(IssueRatingLinks, { hrefs: [marker(0), marker(1), marker(2)] }));
      const pixel = renderToStaticMarkup(createElement(TrackingPixel, { src: marker(0) })).split(marker(0));
      const honeypot = renderToStaticMarkup(createElement(HoneypotLink, { href: marker(0) })).split(
        marker(0),
      );
      const slots = ratingSlot + 1;
      const htmlText = slotted(html, new RegExp(pattern, 'g'), slots);
      const textText = slotted(text, new RegExp(pattern, 'g'), slots);
      const template: EditionTemplate = {
        issueId: edition.issueId,
        week: edition.week,
        segmentKey: edition.segmentKey,
        subject: outline.subject,
        html: htmlText,
        text: textText,
        pixel: [pixel[0] ?? '', pixel[1] ?? ''],
        honeypot: [honeypot[0] ?? '', honeypot[1] ?? ''],
        links: urls.map((url) => ({ url, escaped: escapeHtml(url), position: positionIn(edition, url) })),
        urls: [...urls],
        signedPositions: signedPositionsOf(edition, urls),
        minutes: outline.minutes,
        leftOut: outline.leftOut,
        movable,
        storyBlocks: storyBlocksOf(outline, movable, runs, htmlText, textText),
        feedback: {
          stories: feedbackStories,
          storyHtml: storyHtml as [string, string, string],
          ratingHtml: ratingHtml as [string, string, string, string],
        },
        feedbackStoryLinks: feedbackStories.map((story) => story.position),
        htmlBytes: 0,
      };
      template.htmlBytes = Buffer.byteLength(personalise(template, largestReader, null, true).html);
      return { ...template, extraSteps: outline.extraSteps };
    }
  }

  function personalise(
    template: EditionTemplate,
    recipient: Recipient,
    order: readonly string[] | null | undefined,
    measuring = false,
  ): RenderedMessage {
    {
      const values = valuesFor(
        template.issueId,
        template.urls,
        template.signedPositions,
        template.feedbackStoryLinks,
        recipient,
        measuring,
      );
      const escapedGreeting = escapeHtml(values.greeting);
      const htmlValues = [
        escapedGreeting,
        escapeOurUrl(values.unsubscribeUrl),
        escapeOurUrl(values.preferencesUrl),
        values.pixelUrl ? template.pixel[0] + escapeOurUrl(values.pixelUrl) + template.pixel[1] : '',
        values.honeypotUrl
          ? template.honeypot[0] + escapeOurUrl(values.honeypotUrl) + template.honeypot[1]
          : '',
      ];
      const textValues = [values.greeting, values.unsubscribeUrl, values.preferencesUrl, '', '', ''];
      htmlValues.push('');
      const tracked = values.hrefs !== template.urls;
      template.links.forEach((link, index) => {
        const href = values.hrefs[index] ?? link.url;
        htmlValues.push(tracked ? escapeOurUrl(href) : link.escaped);
        textValues.push(href);
      });
      const feedback = values.feedback;
      if (feedback) {
        const [before, between, after] = template.feedback.storyHtml;
        for (const { more, less } of feedback.stories) {
          htmlValues.push(before + escapeOurUrl(more) + between + escapeOurUrl(less) + after);
          textValues.push(storyFeedbackText(more, less));
        }
        const [r0, r1, r2, r3] = template.feedback.ratingHtml;
        const [u1, u2, u3] = feedback.ratings;
        htmlValues.push(r0 + escapeOurUrl(u1) + r1 + escapeOurUrl(u2) + r2 + escapeOurUrl(u3) + r3);
        textValues.push(issueRatingText(feedback.ratings));
      } else {
        for (let i = 0; i <= template.feedback.stories.length; i++) {
          htmlValues.push('');
          textValues.push('');
        }
      }
      const sequences = order && order.length > 0 ? sequencesFor(template.storyBlocks, order) : null;
      const html = sequences
        ? { text: template.html, values: htmlValues, sequence: sequences.html }
        : { text: template.html, values: htmlValues };
      const text = sequences
        ? { text: template.text, values: textValues, sequence: sequences.text }
        : { text: template.text, values: textValues };
      return withParts(
        {
          subject: template.subject,
          html: fillSlotted(html),
          text: fillSlotted(text),
          headers: headersFor(values.unsubscribeToken),
        },
        { html, text },
      );
    }
  }

  return {
    template(edition) {
      const { extraCuts: _cuts, ...template } = guardedTemplate(edition);
      return template;
    },

    personalise: (template, recipient, order) => personalise(template, recipient, order),

    archiveCopy(edition) {
      const extraCuts = guardedTemplate(edition).extraCuts;
      const outline = recapOutline(edition, { extraCuts });
      return {
        subject: outline.subject,
        html: renderHtml({ edition, frame: frameProps, personal: null, extraCuts }),
        text: plainText(outline, frame.postalAddress, {
          greeting: null,
          viewInBrowserUrl: null,
          unsubscribeUrl: null,
          preferencesUrl: null,
          archiveUrl,
          hrefOf: (url) => url,
        }),
        headers: {},
      };
    },

    renderFor(edition, recipient, order) {
      const extraCuts = guardedTemplate(edition).extraCuts;
      const editorial = recapOutline(edition, { extraCuts });
      const outline = orderOutline(editorial, movableStories(edition, editorial), order);
      const signedPositions = signedPositionsOf(edition, outline.urls);
      const feedbackStories = feedbackStoriesOf(edition, editorial);
      const values = valuesFor(
        edition.issueId,
        outline.urls,
        signedPositions,
        feedbackStories.map((story) => story.position),
        recipient,
      );
      const feedbackUrls = values.feedback;
      const storyIndex = new Map(feedbackStories.map((story, index) => [story.storyId, index]));
      const storyUrls = (storyId: string) => {
        const index = storyIndex.get(storyId);
        return index === undefined ? undefined : feedbackUrls?.stories[index];
      };
      const feedback: RecapFeedback | undefined = feedbackUrls
        ? {
            story: (storyId) => {
              const pair = storyUrls(storyId);
              return pair ? createElement(StoryFeedback, pair) : null;
            },
            rating: createElement(IssueRatingLinks, { hrefs: feedbackUrls.ratings }),
          }
        : undefined;
      const hrefs: Record<string, string> = {};
      outline.urls.forEach((url, index) => {
        hrefs[url] = values.hrefs[index] ?? url;
      });
      const personal: PersonalLinks = {
        greeting: values.greeting,
        unsubscribeUrl: values.unsubscribeUrl,
        preferencesUrl: values.preferencesUrl,
        pixelUrl: values.pixelUrl,
        honeypotUrl: values.honeypotUrl,
      };
      return {
        subject: outline.subject,
        html: renderHtml({
          edition,
          frame: frameProps,
          personal,
          hrefs,
          extraCuts,
          order: order ?? null,
          ...(feedback ? { feedback } : {}),
        }),
        text: plainText(outline, frame.postalAddress, {
          greeting: values.greeting,
          viewInBrowserUrl: editionArchiveUrl(publicUrl, edition.week, edition.segmentKey),
          unsubscribeUrl: values.unsubscribeUrl,
          preferencesUrl: values.preferencesUrl,
          archiveUrl,
          hrefOf: (url) => hrefs[url] ?? url,
          feedbackOf: (storyId) => {
            const pair = storyUrls(storyId);
            return pair ? storyFeedbackText(pair.more, pair.less) : null;
          },
          rating: feedbackUrls ? issueRatingText(feedbackUrls.ratings) : null,
        }),
        headers: headersFor(values.unsubscribeToken),
      };
    },
  };
}
