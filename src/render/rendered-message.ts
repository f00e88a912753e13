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
