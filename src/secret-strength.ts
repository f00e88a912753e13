/** The placeholder shipped in .env.example: never a real secret. */
const PLACEHOLDER = 'change-me-to-32-or-more-random-characters';

/**
 * Why a RECAP_SECRET value is too weak to sign tokens, or null when it is acceptable:
 * at least 32 characters, not one character repeated, not the .env.example placeholder.
 */
export function describeWeakSecret(value: string): string | null {
  if (value === PLACEHOLDER) return 'is the placeholder from .env.example';
  if (value.length < 32) return `has ${value.length} characters, expected at least 32`;
  if (new Set(value).size === 1) return 'repeats one character';
  return null;
}
