import { styles } from './styles.ts';
import { TextLink } from './text-link.tsx';

export interface RecapFooterProps {
  followed: string;
  postalAddress: string;
  /** Null for the archive copy, which carries no personal links. */
  unsubscribeUrl: string | null;
  preferencesUrl: string | null;
  archiveUrl: string;
}

/** Why you receive this, manage preferences, one-click unsubscribe, postal address, rights notice. */
export function RecapFooter({
  followed,
  postalAddress,
  unsubscribeUrl,
  preferencesUrl,
  archiveUrl,
}: RecapFooterProps) {
  return (
    <>
      <p className="mu" style={styles.small}>
        {unsubscribeUrl === null
          ? // The archive copy is read by anyone: it says whom the edition was for, not why "you" got it.
            followed
            ? `This edition of Weekly AI Recap was written for ${followed}.`
            : 'An edition of Weekly AI Recap.'
          : followed
            ? `You receive Weekly AI Recap because you subscribed to ${followed}.`
            : 'You receive Weekly AI Recap because you subscribed to it.'}
      </p>
      <p className="mu" style={styles.small}>
        {preferencesUrl ? (
          <>
            <TextLink href={preferencesUrl} className="ac" style={styles.footerLink}>
              Manage preferences
            </TextLink>
            {' · '}
          </>
        ) : null}
        {unsubscribeUrl ? (
          <>
            <TextLink href={unsubscribeUrl} className="ac" style={styles.footerLink}>
              Unsubscribe
            </TextLink>
            {' · '}
          </>
        ) : null}
        <TextLink href={archiveUrl} className="ac" style={styles.footerLink}>
          Past issues
        </TextLink>
      </p>
      <p className="mu" style={styles.small}>
        {postalAddress}
      </p>
      <p className="mu" style={styles.small}>
        AI-curated news digest. All content rights belong to original publishers.
      </p>
    </>
  );
}
