import {
  claimMailboxMessage,
  type MailboxMessageKey,
  markMailboxMessageHandled,
  purgeMailboxMessages,
  releaseMailboxMessage,
} from './bounce-mailbox.repository.ts';
import { type BounceDeps, handleInbound, type InboundOutcome } from './handle-inbound.ts';
import { headerFields, mailboxRecipients } from './mailbox-recipients.ts';

/** Where acted-on messages go: a bounce, a complaint or a mailto unsubscribe that changed something here. */
export const HANDLED_FOLDER = 'Recap-Handled';
/** Where everything else goes, unacted: out-of-office replies, spam, reports without a token of ours. */
export const UNHANDLED_FOLDER = 'Recap-Unhandled';
/** Larger messages are not fetched: the bounce listener refuses them too. */
export const MAX_MAILBOX_MESSAGE_BYTES = 5 * 1024 * 1024;
/**
 * A message claimed this long ago and still in the folder belongs to a poller that stopped mid-way:
 * another takes it over (to act on it, or only to move it once acted on). Far above the milliseconds
 * a poller takes between its claim and its move.
 */
export const STALE_CLAIM_MS = 2 * 60_000;
/** How long stopping waits for a poll in progress. */
const STOP_WAIT_MS = 10_000;
/** Rows of handled messages are kept this long (the messages themselves stay in their folders). */
const KEEP_ROWS_DAYS = 30;

/** A message waiting in the folder polled. */
export interface MailboxMessageRef {
  uid: number;
  size: number;
}

/** One logged-in connection to the bounce mailbox, with the folder polled selected. */
export interface BounceMailboxSession {
  /** The folder's UIDVALIDITY: with a UID, names one message for good. */
  readonly uidValidity: string;
  /** The messages in the folder, oldest first. */
  messages(): Promise<MailboxMessageRef[]>;
  /** The raw message; null when it is no longer in the folder (another poller moved it). */
  fetch(uid: number): Promise<Buffer | null>;
  /** Moves the message to `folder`, made when missing; false when it was no longer there. */
  move(uid: number, folder: string): Promise<boolean>;
  /** Logs out; never throws. */
  close(): Promise<void>;
}

/** The bounce mailbox (IMAP over TLS in production; src/cli builds it). */
export interface BounceMailbox {
  /** Names the folder polled (host, user, folder): the key of its messages' rows. */
  readonly identity: string;
  /** Connects, logs in and selects the folder; throws when it cannot. */
  open(): Promise<BounceMailboxSession>;
}

export interface MailboxPollOptions {
  /** This process, for claims (host, pid and a random part). */
  owner: string;
  /** One line per message left unacted, and per failure. */
  log: (line: string) => void;
  /** What became of each message acted on or left (metrics, tests). */
  onOutcome?: (outcomes: InboundOutcome[]) => void;
}

export interface MailboxPollResult {
  /** Acted on here and moved to HANDLED_FOLDER. */
  handled: number;
  /** Left unacted here and moved to UNHANDLED_FOLDER. */
  unhandled: number;
  /** Handled earlier (by this or another poller) and only moved now. */
  movedLate: number;
  /** Being handled by another poller, or gone before this one got to it. */
  skipped: number;
}

/**
 * One poll of the bounce mailbox: every message of the folder goes through handleInbound, exactly as if
 * the bounce listener had received it, with its recipients taken from Delivered-To, X-Original-To or To
 * (our VERP and mailto-unsubscribe tokens only). A message that changed something moves to
 * HANDLED_FOLDER, any other (out-of-office, spam, a report without a token of ours) to UNHANDLED_FOLDER.
 * Each message is acted on once across restarts and any number of pollers: a poller acts only on a
 * message whose row it inserted (bounce_mailbox_messages, by folder, UIDVALIDITY and UID), and a
 * message handled but not yet moved is moved later without being acted on again. Throws when the
 * mailbox or the database fails (the session is closed); a message whose handling failed is released
 * for the next poll.
 */
export async function pollBounceMailbox(
  deps: BounceDeps,
  mailbox: BounceMailbox,
  options: MailboxPollOptions,
): Promise<MailboxPollResult> {
  const result: MailboxPollResult = { handled: 0, unhandled: 0, movedLate: 0, skipped: 0 };
  const session = await mailbox.open();
  try {
    for (const message of await session.messages()) {
      const key: MailboxMessageKey = {
        mailbox: mailbox.identity,
        uidValidity: session.uidValidity,
        uid: message.uid,
      };
      const claim = await claimMailboxMessage(deps.db, key, options.owner, STALE_CLAIM_MS);
      if (claim.kind === 'busy') {
        result.skipped++;
        continue;
      }
      if (claim.kind === 'handled') {
        // Acted on by a poller that stopped before moving it: moved now, not acted on again.
        if (await session.move(message.uid, claim.folder)) result.movedLate++;
        else result.skipped++;
        continue;
      }
      const folder = await actOn(deps, session, key, message.size, options).catch(async (error: unknown) => {
        await releaseMailboxMessage(deps.db, key, options.owner).catch(() => {});
        throw error;
      });
      if (folder === null) {
        result.skipped++;
        continue;
      }
      // Moved after the row says handled: a move lost to a failure is made by the next poll, unacted.
      await session.move(message.uid, folder);
      if (folder === HANDLED_FOLDER) result.handled++;
      else result.unhandled++;
    }
    await purgeMailboxMessages(deps.db, KEEP_ROWS_DAYS);
  } finally {
    await session.close();
  }
  return result;
}

/** Acts on one claimed message and marks it handled; returns its folder, or null when it was gone. */
async function actOn(
  deps: BounceDeps,
  session: BounceMailboxSession,
  key: MailboxMessageKey,
  size: number,
  options: MailboxPollOptions,
): Promise<string | null> {
  if (size > MAX_MAILBOX_MESSAGE_BYTES) {
    options.log(
      `left UID ${key.uid} unread (${UNHANDLED_FOLDER}): ${size} bytes, over ${MAX_MAILBOX_MESSAGE_BYTES}`,
    );
    await markMailboxMessageHandled(deps.db, key, {
      folder: UNHANDLED_FOLDER,
      outcome: 'too-large',
      messageId: null,
    });
    return UNHANDLED_FOLDER;
  }
  const raw = await session.fetch(key.uid);
  if (raw === null) {
    await releaseMailboxMessage(deps.db, key, options.owner);
    return null;
  }
  const fields = headerFields(raw);
  const recipients = mailboxRecipients(fields);
  const messageId = fields.get('message-id')?.[0] ?? null;
  const outcomes = await handleInbound(deps, recipients, raw);
  const acted = outcomes.some((outcome) => outcome.kind !== 'dropped');
  const folder = acted ? HANDLED_FOLDER : UNHANDLED_FOLDER;
  if (!acted) {
    const reasons = outcomes.map((outcome) => (outcome.kind === 'dropped' ? outcome.reason : outcome.kind));
    options.log(
      `left UID ${key.uid}${messageId ? ` ${messageId}` : ''} to ${recipients.join(', ') || 'no address of ours'} unacted (${folder}): ${reasons.join('; ')}`,
    );
  }
  await markMailboxMessageHandled(deps.db, key, {
    folder,
    outcome: outcomes.map((outcome) => outcome.kind).join(','),
    messageId,
  });
  options.onOutcome?.(outcomes);
  return folder;
}

export interface BounceMailboxPoller {
  /** Resolves after the first poll (successful or not). */
  readonly first: Promise<void>;
  /** Stops polling, after the poll in progress (waited for up to 10 s). */
  stop(): Promise<void>;
}

export interface BounceMailboxPollerOptions extends MailboxPollOptions {
  /** Between polls (BOUNCE_IMAP_POLL_SECONDS). */
  intervalMs: number;
  /** First wait after a failed poll; doubled after each further failure, up to max(intervalMs, 5 minutes). */
  retryMs?: number;
  /** Called after each poll, with its result or its error (logs, tests). */
  onPoll?: (outcome: MailboxPollResult | Error) => void;
}

/**
 * Polls the bounce mailbox every `intervalMs`, starting at once. A failed poll (the server refused or
 * dropped the connection, the login failed, the database was away) is logged and retried after a
 * back-off; it never throws and never stops the process.
 */
export function startBounceMailboxPoller(
  deps: BounceDeps,
  mailbox: BounceMailbox,
  options: BounceMailboxPollerOptions,
): BounceMailboxPoller {
  const retryMs = options.retryMs ?? 2_000;
  const maxRetryMs = Math.max(options.intervalMs, 5 * 60_000);
  let stopped = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  let markFirst: () => void = () => {};
  const first = new Promise<void>((resolve) => {
    markFirst = resolve;
  });
  const loop = (async () => {
    while (!stopped) {
      let wait = options.intervalMs;
      try {
        const result = await pollBounceMailbox(deps, mailbox, options);
        if (failures > 0) options.log(`bounce mailbox ${mailbox.identity} reachable again`);
        failures = 0;
        options.onPoll?.(result);
      } catch (error) {
        failures++;
        wait = Math.min(maxRetryMs, retryMs * 2 ** (failures - 1));
        const reason = error instanceof Error ? error.message : String(error);
        options.log(
          `bounce mailbox ${mailbox.identity}: poll failed (${reason}); retry ${failures} in ${seconds(wait)} s`,
        );
        options.onPoll?.(error instanceof Error ? error : new Error(reason));
      }
      markFirst();
      if (stopped) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, wait);
      });
    }
  })();
  return {
    first,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      wake?.();
      // A poll stuck on a silent server is not waited for: its claims are taken over later.
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([loop, new Promise<void>((resolve) => (bound = setTimeout(resolve, STOP_WAIT_MS)))]);
      clearTimeout(bound);
    },
  };
}

function seconds(ms: number): string {
  return ms < 10_000 ? (ms / 1000).toFixed(1) : String(Math.round(ms / 1000));
}
