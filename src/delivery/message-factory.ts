import type { SubjectVariant } from '../db/database.ts';
import type { Recipient, RenderedMessage } from '../render/rendered-message.ts';

/** What every recipient of one segment set shares, rendered once; turned into one copy per recipient. */
export interface EditionMessages {
  /**
   * Must be cheap (string substitution, no rendering): it runs once per recipient. `order`: the reader's
   * own order of the movable stories (the delivery's `story_order`); null or absent: the editorial order.
   */
  personalise(recipient: Recipient, order?: readonly string[] | null): RenderedMessage;
}

/**
 * Where the worker gets its messages: one EditionMessages per segment key ("engineers+researchers") and
 * subject variant (A when absent; B and C only in a subject test), built once and cached by the worker:
 * at most three renders per segment set, never one per reader. Null when that segment set has nothing
 * to send this week.
 */
export interface MessageFactory {
  forSegmentKey(
    segmentKey: string,
    variant?: SubjectVariant | null,
  ): EditionMessages | null | Promise<EditionMessages | null>;
}
