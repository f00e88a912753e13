/**
 * Design tokens shared by the React Email views (emails/) and the MJML system mails (templates/, where
 * `{{theme.NAME}}` is replaced by the value at load time). Every text/background pair keeps at least
 * 4.5:1 contrast in both palettes.
 */
export const theme = {
  fontStack: "-apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
  width: 600,
  light: {
    background: '#ffffff',
    ink: '#111827',
    muted: '#6b7280',
    accent: '#2563eb',
    border: '#e5e7eb',
    rule: '#111827',
    buttonText: '#ffffff',
  },
  dark: {
    background: '#0b0f17',
    ink: '#e5e7eb',
    muted: '#9ca3af',
    accent: '#60a5fa',
    border: '#1f2937',
    rule: '#e5e7eb',
    buttonText: '#0b0f17',
  },
  type: {
    title: { size: 20, line: 26 },
    heroTitle: { size: 24, line: 30 },
    body: { size: 15, line: 22 },
    kicker: { size: 12, line: 16 },
  },
  space: { side: 24, sidePhone: 16 },
} as const;

/** Flat `name -> value` view of the tokens for MJML templates: `{{theme.accent}}`, `{{theme.dark.ink}}`. */
export function themeVariables(): Record<string, string> {
  const variables: Record<string, string> = { fontStack: theme.fontStack, width: `${theme.width}px` };
  for (const [name, value] of Object.entries(theme.light)) variables[name] = value;
  for (const [name, value] of Object.entries(theme.dark)) variables[`dark.${name}`] = value;
  return variables;
}
