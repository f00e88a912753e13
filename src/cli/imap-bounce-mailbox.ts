import { rootCertificates } from 'node:tls';
import { ImapFlow, type MailboxObject } from 'imapflow';
import type { BounceMailboxSettings } from '../config.ts';
import type {
  BounceMailbox,
  BounceMailboxSession,
  MailboxMessageRef,
} from '../delivery/bounces/poll-bounce-mailbox.ts';

/** Connecting (DNS, TCP, TLS) and the greeting; a stopped server fails a poll within these, not hours. */
const CONNECT_TIMEOUT_MS = 30_000;
const GREETING_TIMEOUT_MS = 16_000;
/** A server that stops answering mid-command. */
const SOCKET_TIMEOUT_MS = 60_000;

/**
 * The bounce mailbox over IMAP (BOUNCE_IMAP_URL) with imapflow: TLS from the first byte (imaps://) or
 * a STARTTLS upgrade that must succeed (imap://); the certificate is checked against the system's CAs
 * (and NODE_EXTRA_CA_CERTS, or `extraCa`: more authorities trusted, never fewer checks). One connection
 * per poll, closed after it. `log` hears connection errors the client reports outside a command.
 */
export function imapBounceMailbox(
  settings: BounceMailboxSettings,
  log: (line: string) => void,
  extraCa?: string,
): BounceMailbox {
  return {
    identity: `${settings.implicitTls ? 'imaps' : 'imap'}://${encodeURIComponent(settings.user)}@${settings.host}:${settings.port}/${settings.folder}`,
    open: () => openSession(settings, log, extraCa),
  };
}

async function openSession(
  settings: BounceMailboxSettings,
  log: (line: string) => void,
  extraCa: string | undefined,
): Promise<BounceMailboxSession> {
  const client = new ImapFlow({
    host: settings.host,
    port: settings.port,
    secure: settings.implicitTls,
    doSTARTTLS: !settings.implicitTls,
    auth: { user: settings.user, pass: settings.password },
    logger: false,
    disableAutoIdle: true,
    connectionTimeout: CONNECT_TIMEOUT_MS,
    greetingTimeout: GREETING_TIMEOUT_MS,
    socketTimeout: SOCKET_TIMEOUT_MS,
    clientInfo: { name: 'weekly-ai-recap' },
    ...(extraCa ? { tls: { ca: [...rootCertificates, extraCa] } } : {}),
  });
  // Without a listener, an 'error' event (a dropped socket between commands) would end the process.
  client.on('error', (error: Error) => log(`bounce mailbox connection: ${error.message}`));
  try {
    await client.connect();
  } catch (error) {
    client.close();
    throw new Error(`cannot log in: ${describe(error)}`);
  }
  let lock: Awaited<ReturnType<ImapFlow['getMailboxLock']>>;
  try {
    lock = await client.getMailboxLock(settings.folder);
  } catch (error) {
    client.close();
    throw new Error(`cannot open folder ${settings.folder}: ${describe(error)}`);
  }
  const selected = client.mailbox as MailboxObject;
  const folders = new Map<string, string>();
  const folderPath = async (name: string): Promise<string> => {
    const known = folders.get(name);
    if (known) return known;
    let made: string;
    try {
      made = (await client.mailboxCreate(name)).path;
    } catch (error) {
      // A server that answers an existing folder with a plain NO: it is there if its status is.
      const status = await client.status(name, { messages: true }).catch(() => null);
      if (!status) throw error;
      made = status.path;
    }
    folders.set(name, made);
    return made;
  };
  return {
    uidValidity: String(selected.uidValidity),
    async messages(): Promise<MailboxMessageRef[]> {
      if (!client.mailbox || client.mailbox.exists === 0) return [];
      const found = await client.fetchAll('1:*', { uid: true, size: true });
      return found.map((message) => ({ uid: message.uid, size: message.size ?? 0 }));
    },
    async fetch(uid) {
      const message = await client.fetchOne(String(uid), { uid: true, source: true }, { uid: true });
      return message === false ? null : (message.source ?? null);
    },
    async move(uid, folder) {
      const moved = await client.messageMove(String(uid), await folderPath(folder), { uid: true });
      if (!moved) return false;
      // With UIDPLUS the server names what it moved; a UID gone already moves nothing.
      return moved.uidMap ? moved.uidMap.has(uid) : true;
    },
    async close() {
      lock.release();
      await client.logout().catch(() => client.close());
    },
  };
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const detail = error as Error & { responseText?: string; code?: string; authenticationFailed?: boolean };
  if (detail.authenticationFailed)
    return `login refused${detail.responseText ? ` (${detail.responseText})` : ''}`;
  // The server's words and the error code, each once (a socket error's message already names its code).
  const parts: string[] = [];
  for (const part of [detail.message, detail.responseText, detail.code]) {
    if (part && !parts.some((known) => known.includes(part))) parts.push(part);
  }
  return parts.join(': ');
}
