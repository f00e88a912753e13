import type { RenderedMessage } from '../render/rendered-message.ts';

/**
 * The edge between the send pipeline and the world: the worker hands over finished messages and gets a
 * classified result back; it never knows whether they go to an SMTP server or into a folder.
 */
export interface OutgoingMessage {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  /** Extra headers (List-Unsubscribe, List-Unsubscribe-Post, List-Id, …), written as given. */
  headers: Record<string, string>;
  /** With angle brackets: `<recap.2026-W48.42@example.com>`. Stable per issue and subscriber. */
  messageId: string;
  /** The html and text as template parts and personal values (see RenderedMessage.parts; not enumerable). */
  readonly parts?: RenderedMessage['parts'];
  /** SMTP envelope sender (VERP return path); defaults to the address in `from`. */
  envelopeFrom?: string;
}

export type SendFailureKind = 'transient' | 'permanent' | 'policy' | 'fatal';

/**
 * transient: try again later (4xx, connection trouble). permanent: this address will not take mail
 * (5.1.x means it does not exist). policy: refused for a reason that is not the address (5.7.x).
 * fatal: nothing can be sent until an operator acts (authentication, TLS).
 */
export type SendResult =
  | {
      ok: true;
      /** The relay's own id of the message, from its 250 reply (see relayMessageIdFromReply); absent when it named none. */
      relayMessageId?: string;
      /** Which of several relays (SMTP_URLS) took it, by name; absent with one relay. */
      relay?: string;
    }
  | {
      ok: false;
      kind: SendFailureKind;
      code?: number;
      enhanced?: string;
      message: string;
      /** The relay itself could not be reached or talked to: says nothing about the recipient. */
      relay?: true;
    };

export interface Mailer {
  /** Sends one message. Never throws for delivery problems: they come back classified. */
  send(message: OutgoingMessage): Promise<SendResult>;
  /** Closes pooled connections; idempotent. */
  close(): Promise<void>;
}
