import type { NotePart } from '../../src/issues/issue-writing.ts';
import { styles } from './styles.ts';
import { TextLink } from './text-link.tsx';

export interface EditorNoteProps {
  /** The note's paragraphs (see noteParagraphs); text is escaped by React like every other text. */
  paragraphs: NotePart[][];
  /** Original URL -> the href to use (a tracked link in a reader's copy). */
  hrefOf: (url: string) => string;
}

/** The editor's note, above the first section: plain paragraphs with their links. */
export function EditorNote({ paragraphs, hrefOf }: EditorNoteProps) {
  if (paragraphs.length === 0) return null;
  return (
    <div className="editor-note">
      {paragraphs.map((parts, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: paragraphs have no identity beyond their place
        <p key={index} className="ink" style={{ ...styles.text, marginTop: index === 0 ? 16 : 10 }}>
          {parts.map((part, at) =>
            part.kind === 'link' ? (
              // biome-ignore lint/suspicious/noArrayIndexKey: runs of one paragraph, in order
              <TextLink key={at} href={hrefOf(part.url)} className="ac" style={styles.link}>
                {part.text}
              </TextLink>
            ) : (
              part.text
            ),
          )}
        </p>
      ))}
    </div>
  );
}
