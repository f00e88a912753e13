import { RATING_QUESTION, RATING_WORDS, STORY_VOTE_WORDS } from '../../src/render/feedback-words.ts';
import { styles } from './styles.ts';
import { TextLink } from './text-link.tsx';

/**
 * "More like this · Less like this" under a story card: small, muted, underlined text links (each a
 * 44 px tap target), readable in both palettes. The links open a page that asks before recording.
 */
export function StoryFeedback({ more, less }: { more: string; less: string }) {
  return (
    <p className="mu" style={styles.feedback}>
      <TextLink href={more} className="mu" style={styles.feedbackLink}>
        {STORY_VOTE_WORDS.more}
      </TextLink>
      {' · '}
      <TextLink href={less} className="mu" style={styles.feedbackLink}>
        {STORY_VOTE_WORDS.less}
      </TextLink>
    </p>
  );
}

/**
 * "How was this issue?" with its three answers, after the last section. The rule above it is a table
 * cell's border (Outlook for Windows draws no borders on paragraphs).
 */
export function IssueRatingLinks({ hrefs }: { hrefs: readonly [string, string, string] }) {
  return (
    <table
      role="presentation"
      width="100%"
      cellPadding={0}
      cellSpacing={0}
      border={0}
      style={styles.ruleTable}
    >
      <tbody>
        <tr>
          <td className="bd" style={styles.ratingCell}>
            <p className="ink" style={styles.ratingQuestion}>
              {RATING_QUESTION}
            </p>
            <p className="mu" style={styles.feedback}>
              {RATING_WORDS.map((label, index) => (
                <span key={label}>
                  {index > 0 ? ' · ' : null}
                  <TextLink href={hrefs[index] as string} className="ac" style={styles.footerLink}>
                    {label}
                  </TextLink>
                </span>
              ))}
            </p>
          </td>
        </tr>
      </tbody>
    </table>
  );
}
