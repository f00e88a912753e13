import type { CSSProperties, ReactNode } from 'react';

/**
 * A plain link. React Email's Link adds `target="_blank"`, which mail clients ignore or flag
 * (caniemail: unsupported in Gmail, Outlook and Apple Mail) and which costs bytes on every link.
 */
export function TextLink({
  href,
  className,
  style,
  children,
}: {
  href: string;
  className?: string;
  style: CSSProperties;
  children: ReactNode;
}) {
  return (
    <a href={href} className={className} style={style}>
      {children}
    </a>
  );
}
