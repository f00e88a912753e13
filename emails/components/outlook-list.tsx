import type { ReactNode } from 'react';
import { Heading } from 'react-email';
import type { DevelopingItem, WatchItem } from '../../src/render/recap-outline.ts';
import { styles } from './styles.ts';
import { TextLink } from './text-link.tsx';

/** "What to watch": each prediction with its one-line rationale. */
export function WatchList({ items }: { items: WatchItem[] }) {
  return (
    <>
      <SectionHeading>What to watch</SectionHeading>
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
      <SectionHeading>Developing stories</SectionHeading>
      <ul style={{ ...styles.list, marginTop: 14 }}>
        {items.map((item) => (
          <li key={`${item.title}\u0000${item.date}\u0000${item.event}`} className="ink" style={styles.item}>
            {item.url ? (
              <TextLink href={hrefOf(item.url)} className="ac" style={styles.blockTapLink}>
                {item.title}
              </TextLink>
            ) : (
              <strong>{item.title}</strong>
            )}
            {item.url ? null : ' '}
            <span className="mu" style={{ color: styles.small.color }}>
              {item.date ? `${item.date}: ` : ''}
            </span>
            {item.event}
          </li>
        ))}
      </ul>
    </>
  );
}

/**
 * A section title under a 2 px rule. The rule is the border of a table cell: Outlook for Windows
 * ignores borders on headings, paragraphs and divs.
 */
export function SectionHeading({ children, label = false }: { children: ReactNode; label?: boolean }) {
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
          <td className="rl" style={styles.ruleCell}>
            {label ? (
              <p className="ink" style={styles.label}>
                {children}
              </p>
            ) : (
              <Heading as="h2" className="ink" style={styles.sectionTitle}>
                {children}
              </Heading>
            )}
          </td>
        </tr>
      </tbody>
    </table>
  );
}
