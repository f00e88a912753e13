const worldwide = new Set(['global', 'world', 'worldwide', 'international', 'intl']);

/**
 * The flag emoji for an ISO 3166 alpha-2 region ("HK" -> 🇭🇰, "EU" and "UN" included), a globe for
 * worldwide stories, null for anything else (the kicker then shows the region as text only).
 */
export function regionFlag(region: string | null): string | null {
  if (!region) return null;
  const code = region.trim();
  if (worldwide.has(code.toLowerCase())) return '\u{1F310}';
  const upper = code.toUpperCase() === 'UK' ? 'GB' : code.toUpperCase();
  if (!/^[A-Z]{2}$/.test(upper)) return null;
  return String.fromCodePoint(...[...upper].map((letter) => 0x1f1e6 + letter.charCodeAt(0) - 65));
}
