/**
 * The contract between rendering and delivery. Rendering produces, per (issue, segment set), one
 * EditionTemplate; delivery personalises it per recipient (no React render per recipient) into a
 * RenderedMessage, and adds the envelope (Message-ID, Return-Path) itself.
 */
export interface RenderedMessage {
  subject: string;
  html: string;
  text: string;
  /** Header name -> value, e.g. List-Unsubscribe, List-Unsubscribe-Post, List-Id. */
  headers: Record<string, string>;
  /**
   * The same html and text as the template's literal parts and this reader's slot values, when the copy
   * was personalised from a template: lets the composer encode the shared parts once per segment set.
   * Must fill to exactly `html` and `text`. Attached with `withParts` (not enumerable), so a copy made
   * by spreading (`{ ...message, html }`) drops it and is encoded from its strings: never stale.
   */
  readonly parts?: MessageParts;
}

export interface MessageParts {
  html: SlottedFill;
  text: SlottedFill;
}

/**
 * Attaches `parts` as a non-enumerable property (see RenderedMessage.parts) and returns the same object.
 * Equality checks and spreads see only the strings.
 */
export function withParts<T extends object>(message: T, parts: MessageParts | undefined): T {
  if (parts) Object.defineProperty(message, 'parts', { value: parts, enumerable: false });
  return message;
}

/** Rendered text cut at the per-recipient slots: literals[0] slot[0] literals[1] ... literals[n]. */
export interface SlottedText {
  literals: string[];
  slots: number[];
}

/** One reader's copy of a slotted text: `values[slot]` goes where `slot` appears. */
export interface SlottedFill {
  /** Shared by every reader of the template (its identity keys the composer's cache). */
  text: SlottedText;
  values: readonly string[];
  /**
   * The order of the segments when a reader's own story order moves blocks of them: segment i is
   * `slots[i]` and `literals[i + 1]`; `literals[0]` always comes first. A permutation of
   * 0 … slots.length - 1; absent: 0, 1, 2, … (see `fillSlotted`).
   */
  sequence?: Uint32Array;
}

/** The text of a fill: literals[0], then per segment of the sequence its slot's value and its literal. */
export function fillSlotted(fill: SlottedFill): string {
  const { text, values, sequence } = fill;
  const { literals, slots } = text;
  let out = literals[0] ?? '';
  if (!sequence) {
    for (let i = 0; i < slots.length; i++) out += (values[slots[i] as number] ?? '') + literals[i + 1];
    return out;
  }
  for (let k = 0; k < sequence.length; k++) {
    const i = sequence[k] as number;
    out += (values[slots[i] as number] ?? '') + literals[i + 1];
  }
  return out;
}

/** Who one personalised copy is for. */
export interface Recipient {
  subscriberId: string;
  email: string;
  name: string | null;
  /** False when tracking is off globally or for this subscriber: links stay the originals, no pixel. */
  trackingEnabled: boolean;
}

/** What the frame of every recap needs besides the content: all URLs start at PUBLIC_URL. */
export interface EmailFrame {
  publicUrl: string;
  senderName: string;
  senderEmail: string;
  postalAddress: string;
  /** List-Id domain part, e.g. "weekly-ai-recap.example.com". */
  listIdDomain: string;
  /**
   * Domain of the List-Unsubscribe mailto address (unsubscribe+TOKEN@domain): the one the bounce
   * listener receives mail for. Defaults to `listIdDomain` when absent.
   */
  unsubscribeMailDomain?: string;
}
