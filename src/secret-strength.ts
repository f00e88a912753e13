/** The placeholder `.env.example` ships for RECAP_SECRET: published, so it protects nothing. */
export const EXAMPLE_SECRET_PLACEHOLDER = 'change-me-to-32-or-more-random-characters';

const MIN_LENGTH = 32;
const MIN_DISTINCT_CHARACTERS = 10;

/**
 * Why a signing secret is weak, or null when it is strong enough: at least 32 characters, not the
 * documented placeholder (or a word like "changeme"/"secret"/"password" padded out), not one short
 * pattern repeated, and at least 10 distinct characters (`openssl rand -base64 32` has about 28).
 * Pure; never throws.
 */
export function describeWeakSecret(value: string): string | null {
  if (value.length < MIN_LENGTH) return `shorter than ${MIN_LENGTH} characters`;
  const lower = value.toLowerCase();
  if (value === EXAMPLE_SECRET_PLACEHOLDER || /change-?me|placeholder|example/.test(lower))
    return 'the documented placeholder';
  for (let period = 1; period <= value.length / 2; period++) {
    if (value.slice(period) === value.slice(0, value.length - period))
      return period === 1 ? 'one repeated character' : `a repeated ${period}-character pattern`;
  }
  const distinct = new Set(value).size;
  if (distinct < MIN_DISTINCT_CHARACTERS)
    return `only ${distinct} distinct characters (expected at least ${MIN_DISTINCT_CHARACTERS})`;
  if (/^(?:secret|password|passw0rd|recap|letmein|qwerty|abc|123)+/i.test(value) && distinct < 16)
    return 'a common word or sequence';
  return null;
}
