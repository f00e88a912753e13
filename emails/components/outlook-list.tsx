import { Heading } from 'react-email';
import type { DevelopingItem, WatchItem } from '../../src/render/recap-outline.ts';
import { styles } from './styles.ts';
import { TextLink } from './text-link.tsx';

/** "What to watch": each prediction with its one-line rationale. */
export function WatchList({ items }: { items: WatchItem[] }) {
  return (
    <>
      <Heading as="h2" className="ink rl" style={styles.sectionTitle}>
        What to watch
      </Heading>
      <ul style={{ ...styles.list, marginTop: 14 }}>
        {items.map((item) => (
          <li key={item.prediction} className="ink" style={styles.item}>
            <strong>{item.prediction}</strong>
            {item.rationale ? (
              <>
                {' '}
                <span className="mu" style={{ color: styles.small.color }}>
                  {item.rationale}
                </span>
              </>
            ) : null}
          </li>
        ))}
      </ul>
    </>
  );
}

/** "Developing stories": one line per earlier story whose timeline moved this week. */
export function DevelopingList({
  items,
  hrefOf,
}: {
  items: DevelopingItem[];
  hrefOf: (url: string) => string;
}) {
  return (
    <>
      <Heading as="h2" className="ink rl" style={styles.sectionTitle}>
        Developing stories
      </Heading>
      <ul style={{ ...styles.list, marginTop: 14 }}>
        {items.map((item) => (
          <li key={`${item.title}\u0000${item.date}\u0000${item.event}`} className="ink" style={styles.item}>
            {item.url ? (
              <TextLink href={hrefOf(item.url)} className="ac" style={styles.link}>
                {item.title}
              </TextLink>
            ) : (
              <strong>{item.title}</strong>
            )}
            <span className="mu" style={{ color: styles.small.color }}>
              {item.date ? ` — ${item.date}: ` : ' — '}
            </span>
            {item.event}
          </li>
        ))}
      </ul>
    </>
  );
}
