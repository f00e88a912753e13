import type { ReactNode } from 'react';
import { createElement, Fragment } from 'react';
import { Head, Html } from 'react-email';
import type { Edition } from '../src/issues/issue-content.ts';
import { editionArchiveUrl } from '../src/render/archive-url.ts';
import { blockRuns, movableStories, orderOutline } from '../src/render/movable-stories.ts';
import { recapOutline } from '../src/render/recap-outline.ts';
import type { EmailFrame } from '../src/render/rendered-message.ts';
import { EditorNote } from './components/editor-note.tsx';
import { Masthead } from './components/masthead.tsx';
import { DevelopingList, SectionHeading, WatchList } from './components/outlook-list.tsx';
import { RecapFooter } from './components/recap-footer.tsx';
import { StoryCard } from './components/story-card.tsx';
import { headStyles, styles } from './components/styles.ts';

/** The per-recipient parts of a recap. */
export interface PersonalLinks {
  greeting: string;
  unsubscribeUrl: string;
  preferencesUrl: string;
  /** The open-tracking pixel, null when tracking is off for this reader. */
  pixelUrl: string | null;
  /** The tracked hidden link for link scanners, null when tracking is off for this reader. */
  honeypotUrl?: string | null;
}

export interface Props {
  edition: Edition;
  frame: Pick<EmailFrame, 'publicUrl' | 'postalAddress'>;
  /** Null renders the archive copy: no greeting, no personal links, no pixel. */
  personal: PersonalLinks | null;
  /** Original URL -> the href to use (a tracked link); URLs not listed link to the original. */
  hrefs?: Record<string, string>;
  /** Stand-ins where the pixel and the hidden scanner link go, when one rendering serves many readers. */
  pixelSlot?: string;
  honeypotSlot?: string;
  /** Further leave-out steps beyond the reading budget, decided by the size guard (see recapOutline). */
  extraCuts?: number;
  /** One reader's order of the movable stories (see orderOutline); absent or null: the editorial order. */
  order?: readonly string[] | null;
  /**
   * Stand-in written at every story block boundary of the sections with movable stories (before each card
   * of the run, after the last), so one rendering can be reordered per reader (see EditionTemplate).
   */
  blockMark?: string;
  /**
   * The reader's feedback links (or their template slots): per story id the "More / Less like this"
   * line, and "How was this issue?" at the end. Absent (archive copies, tests): none.
   */
  feedback?: RecapFeedback;
}

/** What a copy shows for feedback: a story's line by its id (null: none for it), the rating block. */
export interface RecapFeedback {
  story(storyId: string): ReactNode | null;
  rating: ReactNode | null;
}

/** The Weekly AI Recap for one edition (issue narrowed to a reader's segments). */
export default function WeeklyRecap({
  edition,
  frame,
  personal,
  hrefs = {},
  pixelSlot,
  honeypotSlot,
  extraCuts = 0,
  order = null,
  blockMark,
  feedback,
}: Props) {
  const editorial = recapOutline(edition, { extraCuts });
  const movable = order || blockMark ? movableStories(edition, editorial) : [];
  const outline = orderOutline(editorial, movable, order);
  const runs = blockMark ? blockRuns(outline, movable) : null;
  const hrefOf = (url: string) => hrefs[url] ?? url;
  const archiveUrl = `${frame.publicUrl}/archive`;
  return (
    <Html lang="en" dir="ltr">
      <Head>
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <meta name="supported-color-schemes" content="light dark" />
        <title>{outline.subject}</title>
        <style>{headStyles}</style>
      </Head>
      <body className="bg" style={styles.body}>
        <div style={styles.preheader}>
          {outline.preheader}
          {honeypotSlot ?? (personal?.honeypotUrl ? <HoneypotLink href={personal.honeypotUrl} /> : null)}
          <div>{PREVIEW_FILLER.repeat(Math.max(0, PREVIEW_LENGTH - [...outline.preheader].length))}</div>
        </div>
        {pixelSlot ?? (personal?.pixelUrl ? <TrackingPixel src={personal.pixelUrl} /> : null)}
        <table
          role="presentation"
          width="100%"
          cellPadding={0}
          cellSpacing={0}
          border={0}
          className="bg"
          style={styles.outer}
        >
          <tbody>
            <tr>
              <td align="center">
                {createElement(GHOST_OPEN)}
                <table
                  role="presentation"
                  width={600}
                  cellPadding={0}
                  cellSpacing={0}
                  border={0}
                  style={styles.inner}
                >
                  <tbody>
                    <tr>
                      <td className="px ink" style={{ ...styles.cell, paddingTop: 32 }}>
                        <Masthead
                          weekRange={outline.weekRange}
                          summary={outline.summary}
                          viewInBrowserUrl={
                            personal
                              ? editionArchiveUrl(frame.publicUrl, edition.week, edition.segmentKey)
                              : null
                          }
                          greeting={personal ? personal.greeting : null}
                        />
                        <EditorNote paragraphs={outline.note} hrefOf={hrefOf} />
                        {outline.hero ? (
                          <>
                            <SectionHeading label>Top story</SectionHeading>
                            <StoryCard
                              card={outline.hero}
                              href={outline.hero.url && hrefOf(outline.hero.url)}
                              hrefOf={hrefOf}
                              variant="hero"
                              feedback={feedback?.story(outline.hero.storyId)}
                            />
                          </>
                        ) : (
                          <p className="ink" style={{ ...styles.text, marginTop: 28 }}>
                            No stories for your topics this week. We will be back next Monday.
                          </p>
                        )}
                        {outline.sections.map((section) => {
                          // A story block is one card's table: any order of them stays valid markup.
                          const run = runs?.get(section.slug);
                          return (
                            <div key={section.title}>
                              <SectionHeading>{section.title}</SectionHeading>
                              {section.cards.map((card, index) => (
                                <Fragment key={card.storyId}>
                                  {run !== undefined && index >= run ? blockMark : null}
                                  <StoryCard
                                    card={card}
                                    href={card.url && hrefOf(card.url)}
                                    hrefOf={hrefOf}
                                    variant={index === 0 ? 'first' : 'rest'}
                                    feedback={feedback?.story(card.storyId)}
                                  />
                                </Fragment>
                              ))}
                              {run !== undefined ? blockMark : null}
                            </div>
                          );
                        })}
                        {outline.watch.length > 0 ? <WatchList items={outline.watch} /> : null}
                        {outline.developing.length > 0 ? (
                          <DevelopingList items={outline.developing} hrefOf={hrefOf} />
                        ) : null}
                        {feedback?.rating ?? null}
                      </td>
                    </tr>
                    <tr>
                      <td className="px mu" style={styles.footer}>
                        <table role="presentation" width="100%" cellPadding={0} cellSpacing={0} border={0}>
                          <tbody>
                            <tr>
                              <td className="rl" style={{ ...styles.ruleCell, paddingTop: 20 }}>
                                <RecapFooter
                                  followed={outline.followed}
                                  postalAddress={frame.postalAddress}
                                  unsubscribeUrl={personal?.unsubscribeUrl ?? null}
                                  preferencesUrl={personal?.preferencesUrl ?? null}
                                  archiveUrl={archiveUrl}
                                />
                              </td>
                            </tr>
                          </tbody>
                        </table>
                      </td>
                    </tr>
                  </tbody>
                </table>
                {createElement(GHOST_CLOSE)}
              </td>
            </tr>
          </tbody>
        </table>
      </body>
    </Html>
  );
}

/** Preview text length the filler pads to, like React Email's Preview. */
const PREVIEW_LENGTH = 150;
/**
 * Invisible whitespace after the preheader so clients do not pull body text ("Weekly AI Recap…") into
 * the inbox preview: no-break space and zero-width characters, as React Email's Preview uses.
 */
const PREVIEW_FILLER = '\u00a0\u200c\u200b\u200d\ufeff';

// Placeholders for the Outlook-only ghost table, swapped for conditional comments by
// `withOutlookGhostTable` (React cannot render HTML comments).
const GHOST_OPEN = 'mso-ghost-open';
const GHOST_CLOSE = 'mso-ghost-close';

/**
 * Puts the 600 px MSO ghost table around the content column: Outlook for Windows ignores max-width,
 * so it gets a fixed-width table that every other client skips as a comment. Story text is escaped,
 * so the placeholders cannot come from content.
 */
export function withOutlookGhostTable(html: string): string {
  return html
    .replace(
      `<${GHOST_OPEN}></${GHOST_OPEN}>`,
      '<!--[if mso]><table role="presentation" align="center" width="600" cellpadding="0" cellspacing="0" border="0"><tr><td><![endif]-->',
    )
    .replace(`<${GHOST_CLOSE}></${GHOST_CLOSE}>`, '<!--[if mso]></td></tr></table><![endif]-->');
}

/** 1×1 open-tracking image; empty alt text so it is never announced or shown as a broken image label. */
export function TrackingPixel({ src }: { src: string }) {
  // fetchPriority="low" stops React from adding a <link rel="preload"> for the image to the head.
  return <img src={src} width={1} height={1} alt="" fetchPriority="low" style={styles.pixel} />;
}

/**
 * A link no reader sees (inside the hidden preheader, no text): only link scanners follow it, which
 * lets the click endpoint classify their clicks.
 */
export function HoneypotLink({ href }: { href: string }) {
  // biome-ignore lint/a11y/useAnchorContent: hidden from everyone on purpose (display:none also hides it from screen readers)
  return <a href={href} style={{ display: 'none' }} />;
}
