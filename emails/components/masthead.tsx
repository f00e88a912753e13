import { Heading } from 'react-email';
import { styles } from './styles.ts';
import { TextLink } from './text-link.tsx';

export interface MastheadProps {
  weekRange: string;
  summary: string;
  viewInBrowserUrl: string | null;
  /** "Hi Anna," or, while the template is rendered once for many readers, its stand-in. */
  greeting: string | null;
}

/** Name, week, size of the issue, view-in-browser link and the greeting. No logo image needed. */
export function Masthead({ weekRange, summary, viewInBrowserUrl, greeting }: MastheadProps) {
  return (
    <>
      <p className="ink" style={styles.label}>
        {weekRange}
      </p>
      <Heading as="h1" className="ink mh" style={styles.masthead}>
        Weekly AI Recap
      </Heading>
      <p className="mu" style={styles.meta}>
        {summary}
        {viewInBrowserUrl ? (
          <>
            {' · '}
            <TextLink href={viewInBrowserUrl} className="ac" style={styles.footerLink}>
              View in browser
            </TextLink>
          </>
        ) : null}
      </p>
      {greeting ? (
        <p className="ink" style={styles.greeting}>
          {greeting}
        </p>
      ) : null}
      <p className="ink" style={{ ...styles.greeting, marginTop: greeting ? 8 : 20 }}>
        {greeting
          ? 'Here is what happened in AI this week, picked for the topics you follow.'
          : 'Here is what happened in AI this week.'}
      </p>
    </>
  );
}
