import { Heading } from 'react-email';
import type { CardOutline } from '../../src/render/recap-outline.ts';
import { styles } from './styles.ts';
import { TextLink } from './text-link.tsx';

export interface StoryCardProps {
  card: CardOutline;
  /** The link the reader clicks for the original (tracked or not); null when the story has no http(s) URL. */
  href: string | null;
  variant: 'hero' | 'first' | 'rest';
}

/** One story: kicker, linked title, TL;DR lines, takeaways, who should care, other outlets, call to action. */
export function StoryCard({ card, href, variant }: StoryCardProps) {
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
                <TextLink href={href} className="ink" style={styles.titleLink}>
                  {card.title}
                </TextLink>
              ) : (
                card.title
              )}
            </Heading>
            {card.tldr.map((line) => (
              <p key={line.label} className="ink" style={styles.text}>
                <strong className="ac" style={styles.strong}>
                  {`${line.label}:`}
                </strong>
                {` ${line.text}`}
              </p>
            ))}
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
            {href ? (
              hero ? (
                <HeroButton href={href} label={card.cta} />
              ) : (
                <CallToAction href={href} label={card.cta} />
              )
            ) : null}
          </td>
        </tr>
      </tbody>
    </table>
  );
}

function CallToAction({ href, label }: { href: string; label: string }) {
  return (
    <p style={styles.cta}>
      <TextLink href={href} className="ac" style={styles.link}>
        {`${label} →`}
      </TextLink>
    </p>
  );
}

/** A link styled as a button: the padding sits on the link inside a coloured cell, 44 px tall. */
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
