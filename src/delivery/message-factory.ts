import type { Recipient, RenderedMessage } from '../render/rendered-message.ts';

/** What every recipient of one segment set shares, rendered once; turned into one copy per recipient. */
export interface EditionMessages {
  /** Must be cheap (string substitution, no rendering): it runs once per recipient. */
  personalise(recipient: Recipient): RenderedMessage;
}

/**
 * Where the worker gets its messages: one EditionMessages per segment key ("engineers+researchers"),
 * built once and cached by the worker. Null when that segment set has nothing to send this week.
 */
export interface MessageFactory {
  forSegmentKey(segmentKey: string): EditionMessages | null | Promise<EditionMessages | null>;
}
