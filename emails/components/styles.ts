import type { CSSProperties } from 'react';
import { theme } from '../theme.ts';

const { light, type } = theme;

/** Outlook for Windows honours a line-height only with this rule before it. */
const exactLines = { msoLineHeightRule: 'exactly' } as CSSProperties;

/**
 * Inline styles of the recap, built once from the theme. Dark mode and phone overrides live in
 * `headStyles` and target the short class names set beside these styles.
 */
export const styles = {
  body: { margin: 0, padding: 0, backgroundColor: light.background, WebkitTextSizeAdjust: '100%' },
  // Hidden the way React Email's Preview hides it: no colour or font-size trick (spam filters score
  // near-invisible text), just not displayed; mso-hide for Outlook for Windows.
  preheader: {
    display: 'none',
    overflow: 'hidden',
    lineHeight: '1px',
    opacity: 0,
    maxHeight: 0,
    maxWidth: 0,
    ...({ msoHide: 'all' } as CSSProperties),
  },
  outer: { backgroundColor: light.background },
  inner: { width: '100%', maxWidth: theme.width },
  cell: { padding: `0 ${theme.space.side}px`, fontFamily: theme.fontStack, color: light.ink },
  label: {
    margin: '0 0 4px',
    fontSize: type.kicker.size,
    ...exactLines,
    lineHeight: `${type.kicker.line}px`,
    fontWeight: 700,
    letterSpacing: '.08em',
    textTransform: 'uppercase',
    color: light.ink,
  },
  masthead: {
    margin: 0,
    fontFamily: theme.fontStack,
    fontSize: 30,
    ...exactLines,
    lineHeight: '36px',
    fontWeight: 800,
    color: light.ink,
  },
  meta: { margin: '6px 0 0', fontSize: 13, ...exactLines, lineHeight: '20px', color: light.muted },
  greeting: {
    margin: '20px 0 0',
    fontSize: type.body.size,
    ...exactLines,
    lineHeight: `${type.body.line}px`,
    color: light.ink,
  },
  /** A section rule: always a table cell's border (Outlook for Windows ignores borders on p and div). */
  ruleCell: { padding: '10px 0 0', borderTop: `2px solid ${light.rule}` },
  ruleTable: { marginTop: 36 },
  sectionTitle: {
    margin: 0,
    fontFamily: theme.fontStack,
    fontSize: 13,
    ...exactLines,
    lineHeight: '18px',
    fontWeight: 800,
    letterSpacing: '.06em',
    textTransform: 'uppercase',
    color: light.ink,
  },
  card: { padding: '20px 0', borderTop: `1px solid ${light.border}` },
  firstCard: { padding: '16px 0 20px' },
  kicker: {
    margin: 0,
    fontSize: type.kicker.size,
    ...exactLines,
    lineHeight: `${type.kicker.line}px`,
    letterSpacing: '.04em',
    textTransform: 'uppercase',
    color: light.muted,
  },
  title: {
    margin: '0 0 2px',
    fontFamily: theme.fontStack,
    fontSize: type.title.size,
    ...exactLines,
    lineHeight: `${type.title.line}px`,
    fontWeight: 700,
    color: light.ink,
  },
  heroTitle: {
    margin: '0 0 4px',
    fontFamily: theme.fontStack,
    fontSize: type.heroTitle.size,
    ...exactLines,
    lineHeight: `${type.heroTitle.line}px`,
    fontWeight: 800,
    color: light.ink,
  },
  // Block with padding so a one-line title is a 44 px tap target (26 px line + 2 × 9 px).
  titleLink: { display: 'block', padding: '9px 0', color: light.ink, textDecoration: 'none' },
  heroTitleLink: { display: 'block', padding: '7px 0', color: light.ink, textDecoration: 'none' },
  dek: {
    margin: '0 0 10px',
    fontSize: 16,
    ...exactLines,
    lineHeight: '22px',
    fontStyle: 'italic',
    color: light.ink,
  },
  text: {
    margin: '0 0 8px',
    fontSize: type.body.size,
    ...exactLines,
    lineHeight: `${type.body.line}px`,
    color: light.ink,
  },
  /** TL;DR labels: bold text colour, never the link colour (only links are blue). */
  strong: { color: light.ink, fontWeight: 700 },
  listLabel: {
    margin: '12px 0 4px',
    fontSize: type.kicker.size,
    ...exactLines,
    lineHeight: `${type.kicker.line}px`,
    fontWeight: 700,
    letterSpacing: '.06em',
    textTransform: 'uppercase',
    color: light.muted,
  },
  list: { margin: '4px 0 10px', padding: '0 0 0 20px' },
  item: {
    margin: '0 0 6px',
    fontSize: type.body.size,
    ...exactLines,
    lineHeight: `${type.body.line}px`,
    color: light.ink,
  },
  small: { margin: '0 0 6px', fontSize: 13, ...exactLines, lineHeight: '19px', color: light.muted },
  /** In-body links: link colour and underlined, so they differ from text in every palette. */
  link: { color: light.accent, textDecoration: 'underline', fontWeight: 600 },
  /** A link as its own 44 px tap target: 20 px line + 2 × 12 px padding. */
  tapLink: {
    display: 'inline-block',
    padding: '12px 0',
    ...exactLines,
    lineHeight: '20px',
    color: light.accent,
    textDecoration: 'underline',
    fontWeight: 600,
  },
  blockTapLink: {
    display: 'block',
    padding: '11px 0',
    ...exactLines,
    lineHeight: '22px',
    color: light.accent,
    textDecoration: 'underline',
    fontWeight: 600,
  },
  cta: { margin: '4px 0 0', fontSize: type.body.size, ...exactLines, lineHeight: '20px' },
  related: { margin: '6px 0 0', fontSize: 13, ...exactLines, lineHeight: '20px', color: light.muted },
  relatedLink: {
    display: 'inline-block',
    padding: '12px 0',
    ...exactLines,
    lineHeight: '20px',
    color: light.accent,
    textDecoration: 'underline',
  },
  // Bulletproof: Outlook for Windows ignores padding on <a>, so the cell carries it there
  // (mso-padding-alt); every other client pads the link itself, so the whole button is the tap target.
  button: {
    borderRadius: 6,
    backgroundColor: light.accent,
    ...({ msoPaddingAlt: '12px 20px' } as CSSProperties),
  },
  buttonLink: {
    display: 'inline-block',
    padding: '12px 20px',
    fontFamily: theme.fontStack,
    fontSize: type.body.size,
    ...exactLines,
    lineHeight: '20px',
    fontWeight: 700,
    color: light.buttonText,
    textDecoration: 'none',
  },
  footer: { padding: `28px ${theme.space.side}px 40px`, fontFamily: theme.fontStack, color: light.muted },
  footerLink: {
    display: 'inline-block',
    padding: '12px 0',
    ...exactLines,
    lineHeight: '20px',
    color: light.accent,
    textDecoration: 'underline',
  },
  /** "More like this · Less like this" under a card: small and muted, below the call to action. */
  feedback: { margin: '2px 0 0', fontSize: 13, ...exactLines, lineHeight: '20px', color: light.muted },
  /**
   * Muted but underlined (a link in every palette); the paragraph's 20 px line + 2 × 12 px padding = a
   * 44 px tap target. The line height comes from the paragraph: a dozen per copy, every byte counts.
   */
  feedbackLink: {
    display: 'inline-block',
    padding: '12px 0',
    color: light.muted,
    textDecoration: 'underline',
  },
  ratingCell: { padding: '16px 0 0', borderTop: `1px solid ${light.border}` },
  ratingQuestion: {
    margin: 0,
    fontSize: type.body.size,
    ...exactLines,
    lineHeight: `${type.body.line}px`,
    fontWeight: 700,
    color: light.ink,
  },
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
