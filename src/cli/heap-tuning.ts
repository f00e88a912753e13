import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what its last full collection kept, in percent, for
 * the commands that stream stories in (`import stories`, `ingest`, `serve` with POST /api/stories)
 * and the long sends (`worker`, `send`, `schedule`), whose garbage is the same kind: every batch lives
 * across a database round trip, long enough to be promoted.
 *
 * Why: a streamed import keeps each batch alive across its database round trip, so part of every
 * batch is promoted and becomes old-generation garbage. V8 by default lets the old generation grow to
 * about 3-4 times what survived the last full collection (~50 MB here) before collecting it again,
 * so a 50 MB import peaked ~100 MB above an idle command while holding only a few MB. With 50 % the
 * garbage is collected after ~25 MB. Safe for any input size: this sets no ceiling on the heap (a
 * larger live set still grows it, there is no out-of-memory risk that the default does not have); it
 * only makes full collections come sooner, measured at no loss in records/s.
 */
export const HEAP_GROWING_PERCENT = 50;

/**
 * Applies HEAP_GROWING_PERCENT to this process. Call it first thing in a command, before the
 * application is loaded: the limit is recomputed at each full collection, and start-up has some.
 */
export function collectOldGarbageSooner(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
