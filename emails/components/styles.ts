import type { CSSProperties } from 'react';
import { theme } from '../theme.ts';

const { light, type } = theme;

/**
 * Inline styles of the recap, built once from the theme. Dark mode and phone overrides live in
 * `headStyles` and target the short class names set beside these styles.
 */
export const styles = {
  body: { margin: 0, padding: 0, backgroundColor: light.background, WebkitTextSizeAdjust: '100%' },
  preheader: {
    display: 'none',
    ...({ msoHide: 'all' } as CSSProperties),
    maxHeight: 0,
    overflow: 'hidden',
    opacity: 0,
    color: light.background,
    fontSize: 1,
    lineHeight: '1px',
  },
  outer: { backgroundColor: light.background },
  inner: { width: '100%', maxWidth: theme.width },
  cell: { padding: `0 ${theme.space.side}px`, fontFamily: theme.fontStack, color: light.ink },
  label: {
    margin: '0 0 4px',
    fontSize: type.kicker.size,
    lineHeight: `${type.kicker.line}px`,
    fontWeight: 700,
    letterSpacing: '.08em',
    textTransform: 'uppercase',
    color: light.accent,
  },
  masthead: {
    margin: 0,
    fontFamily: theme.fontStack,
    fontSize: 30,
    lineHeight: '36px',
    fontWeight: 800,
    color: light.ink,
  },
  meta: { margin: '6px 0 0', fontSize: 13, lineHeight: '20px', color: light.muted },
  greeting: {
    margin: '20px 0 0',
    fontSize: type.body.size,
    lineHeight: `${type.body.line}px`,
    color: light.ink,
  },
  rule: { height: 0, margin: 0, border: 0, borderTop: `2px solid ${light.rule}` },
  sectionTitle: {
    margin: '36px 0 0',
    paddingTop: 10,
    borderTop: `2px solid ${light.rule}`,
    fontFamily: theme.fontStack,
    fontSize: 13,
    lineHeight: '18px',
    fontWeight: 800,
    letterSpacing: '.06em',
    textTransform: 'uppercase',
    color: light.ink,
  },
  card: { padding: '20px 0', borderTop: `1px solid ${light.border}` },
  firstCard: { padding: '16px 0 20px' },
  kicker: {
    margin: '0 0 6px',
    fontSize: type.kicker.size,
    lineHeight: `${type.kicker.line}px`,
    letterSpacing: '.04em',
    textTransform: 'uppercase',
    color: light.muted,
  },
  title: {
    margin: '0 0 10px',
    fontFamily: theme.fontStack,
    fontSize: type.title.size,
    lineHeight: `${type.title.line}px`,
    fontWeight: 700,
    color: light.ink,
  },
  heroTitle: {
    margin: '0 0 12px',
    fontFamily: theme.fontStack,
    fontSize: type.heroTitle.size,
    lineHeight: `${type.heroTitle.line}px`,
    fontWeight: 800,
    color: light.ink,
  },
  titleLink: { color: light.ink, textDecoration: 'none' },
  text: { margin: '0 0 8px', fontSize: type.body.size, lineHeight: `${type.body.line}px`, color: light.ink },
  strong: { color: light.accent },
  listLabel: {
    margin: '12px 0 4px',
    fontSize: type.kicker.size,
    lineHeight: `${type.kicker.line}px`,
    fontWeight: 700,
    letterSpacing: '.06em',
    textTransform: 'uppercase',
    color: light.muted,
  },
  list: { margin: '4px 0 10px', padding: '0 0 0 20px' },
  item: { margin: '0 0 6px', fontSize: type.body.size, lineHeight: `${type.body.line}px`, color: light.ink },
  small: { margin: '0 0 6px', fontSize: 13, lineHeight: '19px', color: light.muted },
  link: { color: light.accent, textDecoration: 'none', fontWeight: 600 },
  cta: { margin: '10px 0 0', fontSize: type.body.size, lineHeight: `${type.body.line}px` },
  button: { borderRadius: 6, backgroundColor: light.accent },
  buttonLink: {
    display: 'inline-block',
    padding: '12px 20px',
    fontFamily: theme.fontStack,
    fontSize: type.body.size,
    lineHeight: '20px',
    fontWeight: 700,
    color: light.buttonText,
    textDecoration: 'none',
  },
  footer: { padding: `28px ${theme.space.side}px 40px`, fontFamily: theme.fontStack, color: light.muted },
  footerLink: { color: light.accent, textDecoration: 'underline' },
  pixel: { display: 'block', width: 1, height: 1, border: 0 },
} satisfies Record<string, CSSProperties>;

const { dark } = theme;

/** Dark palette (Apple Mail, iOS, Outlook.com, Android clients that honour it) and the phone layout. */
export const headStyles = [
  `@media (prefers-color-scheme:dark){`,
  `.bg{background-color:${dark.background}!important}`,
  `.ink{color:${dark.ink}!important}`,
  `.mu{color:${dark.muted}!important}`,
  `.ac{color:${dark.accent}!important}`,
  `.bd{border-color:${dark.border}!important}`,
  `.rl{border-color:${dark.rule}!important}`,
  `.btn{background-color:${dark.accent}!important}`,
  `.btn a{color:${dark.buttonText}!important}}`,
  `@media only screen and (max-width:620px){`,
  `.px{padding-left:${theme.space.sidePhone}px!important;padding-right:${theme.space.sidePhone}px!important}`,
  `.mh{font-size:26px!important;line-height:32px!important}}`,
  `.px{word-wrap:break-word;word-break:break-word}`,
].join('');
