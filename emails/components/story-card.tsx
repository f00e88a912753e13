import type { ReactNode } from 'react';
import { Heading } from 'react-email';
import type { CardOutline } from '../../src/render/recap-outline.ts';
import { styles } from './styles.ts';
import { TextLink } from './text-link.tsx';

export interface StoryCardProps {
  card: CardOutline;
  /** The link the reader clicks for the original (tracked or not); null when the story has no http(s) URL. */
  href: string | null;
  /** Original URL -> the href to use, for the "Related:" links. */
  hrefOf: (url: string) => string;
  variant: 'hero' | 'first' | 'rest';
  /** "More like this / Less like this" (or its template slot) after the call to action; absent: none. */
  feedback?: ReactNode;
}

/**
 * One story. Full card (hero, each section's first story): kicker, linked title, the hook as dek,
 * labelled TL;DR lines, takeaways, who should care, other outlets, related links, call to action.
 * Compact card: kicker, linked title, the "What changed" sentence, call to action.
 * An update (either kind) reads "Update: <title>" and adds what changed since the earlier send and the
 * link to the earlier coverage under its TL;DR.
 */
export function StoryCard({ card, href, hrefOf, variant, feedback }: StoryCardProps) {
  const hero = variant === 'hero';
  return (
    <table role="presentation" width="100%" cellPadding={0} cellSpacing={0} border={0}>
      <tbody>
        <tr>
          <td
            className={variant === 'rest' ? 'bd' : undefined}
            style={variant === 'rest' ? styles.card : styles.firstCard}
          >
            {card.kicker.length > 0 ? (
              <p className="mu" style={styles.kicker}>
                {card.kicker.join(' · ')}
              </p>
            ) : null}
            <Heading as={hero ? 'h2' : 'h3'} className="ink" style={hero ? styles.heroTitle : styles.title}>
              {href ? (
                <TextLink href={href} className="ink" style={hero ? styles.heroTitleLink : styles.titleLink}>
                  {card.update ? `${card.update.label}: ${card.title}` : card.title}
                </TextLink>
              ) : card.update ? (
                `${card.update.label}: ${card.title}`
              ) : (
                card.title
              )}
            </Heading>
            {card.hook ? (
              <p className="ink" style={styles.dek}>
                {card.hook}
              </p>
            ) : null}
            {card.compact
              ? card.tldr.map((line) => (
                  <p key={line.label} className="ink" style={styles.text}>
                    {line.text}
                  </p>
                ))
              : card.tldr.map((line) => (
                  <p key={line.label} className="ink" style={styles.text}>
                    <strong className="ink" style={styles.strong}>
                      {`${line.label}:`}
                    </strong>
                    {` ${line.text}`}
                  </p>
                ))}
            {card.update?.heading ? (
              <p className="mu" style={styles.listLabel}>
                {card.update.heading}
              </p>
            ) : null}
            {card.update?.heading ? (
              <ul style={styles.list}>
                {card.update.changes.map((line) => (
                  <li key={`${line.date} ${line.event}`} className="ink" style={styles.item}>
                    {`${line.date}: ${line.event}`}
                  </li>
                ))}
              </ul>
            ) : null}
            {card.update?.earlierUrl ? (
              <p className="mu" style={styles.related}>
                <TextLink href={hrefOf(card.update.earlierUrl)} className="ac" style={styles.relatedLink}>
                  {card.update.earlierLabel}
                </TextLink>
              </p>
            ) : null}
            {card.takeaways.length > 0 ? (
              <p className="mu" style={styles.listLabel}>
                Key takeaways
              </p>
            ) : null}
            {card.takeaways.length > 0 ? (
              <ul style={styles.list}>
                {card.takeaways.map((takeaway) => (
                  <li key={takeaway} className="ink" style={styles.item}>
                    {takeaway}
                  </li>
                ))}
              </ul>
            ) : null}
            {card.whoShouldCare ? (
              <p className="mu" style={styles.small}>
                {`Who should care: ${card.whoShouldCare}`}
              </p>
            ) : null}
            {card.alsoCoveredBy ? (
              <p className="mu" style={styles.small}>
                {`Also covered by ${card.alsoCoveredBy}`}
              </p>
            ) : null}
            {card.related.length > 0 ? (
              <p className="mu" style={styles.related}>
                {'Related: '}
                {card.related.map((link, index) => (
                  <span key={link.url}>
                    {index > 0 ? ' · ' : null}
                    <TextLink href={hrefOf(link.url)} className="ac" style={styles.relatedLink}>
                      {link.title}
                    </TextLink>
                  </span>
                ))}
              </p>
            ) : null}
            {href ? (
              hero ? (
                <HeroButton href={href} label={card.cta} />
              ) : (
                <CallToAction href={href} label={card.cta} />
              )
            ) : null}
            {feedback ?? null}
          </td>
        </tr>
      </tbody>
    </table>
  );
}

function CallToAction({ href, label }: { href: string; label: string }) {
  return (
    <p style={styles.cta}>
      <TextLink href={href} className="ac" style={styles.tapLink}>
        {`${label} →`}
      </TextLink>
    </p>
  );
}

/**
 * A bulletproof button: a coloured cell that carries the padding for Outlook for Windows
 * (mso-padding-alt), and a padded inline-block link everywhere else, 44 px tall.
 */
function HeroButton({ href, label }: { href: string; label: string }) {
  return (
    <table role="presentation" cellPadding={0} cellSpacing={0} border={0} style={{ marginTop: 12 }}>
      <tbody>
        <tr>
          <td className="btn" style={styles.button}>
            <TextLink href={href} style={styles.buttonLink}>
              {`${label} →`}
            </TextLink>
          </td>
        </tr>
      </tbody>
    </table>
  );
}
