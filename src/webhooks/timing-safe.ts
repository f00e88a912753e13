import { createHash, timingSafeEqual } from 'node:crypto';

/** Compares two secrets in constant time, whatever their lengths (both are hashed first). */
export function sameSecret(given: string | Buffer, expected: string | Buffer): boolean {
  const digest = (value: string | Buffer) => createHash('sha256').update(value).digest();
  return (
    timingSafeEqual(digest(given), digest(expected)) &&
    Buffer.byteLength(given) === Buffer.byteLength(expected)
  );
}
