import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { selfSignedCertificate } from './nginx.ts';
import { freePort } from './serve-cli.ts';

/** Debian's Dovecot (package dovecot-imapd): .ci/run installs it when missing. */
export const dovecotBinary =
  ['/usr/sbin/dovecot', '/usr/bin/dovecot'].find((file) => existsSync(file)) ?? 'dovecot';

export const DOVECOT_USER = 'recap-bounces';
export const DOVECOT_PASSWORD = 'mailbox-pass-0123456789';

export interface RunningDovecot {
  /** Its own folder: configuration, certificate, sockets, state and the user's Maildir. */
  dir: string;
  port: number;
  /** The self-signed certificate (PEM) a client must trust (NODE_EXTRA_CA_CERTS or tls.ca). */
  certFile: string;
  /** BOUNCE_IMAP_URL for the test user's INBOX. */
  url: string;
  /** Everything Dovecot logged. */
  output(): string;
  /** Puts a raw message into a folder (APPEND), as the mail server delivering to the mailbox would. */
  deliver(raw: string, folder?: string): Promise<void>;
  /** Message-IDs of the messages in a folder (empty when the folder does not exist). */
  messageIds(folder: string): Promise<string[]>;
  /** Stops the server: its master and every session process at once (each connection drops). */
  stop(): Promise<void>;
  /** Starts it again on the same port, with the same mail. */
  restart(): Promise<void>;
}

/**
 * Runs Dovecot in the foreground (`dovecot -F -c DIR/dovecot.conf`) as an IMAP-over-TLS server on
 * 127.0.0.1 and a free port, with one user (DOVECOT_USER) whose Maildir, like every socket, pid and
 * state file, is in a fresh temporary folder. Under root, its login and mail processes run as nobody;
 * otherwise as the current user.
 */
export async function startDovecot(): Promise<RunningDovecot> {
  const dir = mkdtempSync(path.join(tmpdir(), 'recap-dovecot-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const { cert, key } = selfSignedCertificate(dir, 'localhost');
  const root = process.getuid?.() === 0;
  const me = userInfo().username;
  const mailUser = root ? 'nobody' : me;
  const mailGroup = root ? 'nogroup' : groupName();
  const mail = path.join(dir, 'mail');
  mkdirSync(mail, { mode: 0o755 });
  if (root) chownSync(mail, 65534, 65534);
  writeFileSync(path.join(dir, 'users'), `${DOVECOT_USER}:{PLAIN}${DOVECOT_PASSWORD}::::::\n`);
  const conf = path.join(dir, 'dovecot.conf');
  writeFileSync(
    conf,
    [
      'protocols = imap',
      'listen = 127.0.0.1',
      `base_dir = ${path.join(dir, 'run')}`,
      `state_dir = ${path.join(dir, 'state')}`,
      `instance_name = recap-test-${port}`,
      'log_path = /dev/stderr',
      `default_internal_user = ${mailUser}`,
      `default_internal_group = ${mailGroup}`,
      `default_login_user = ${mailUser}`,
      'first_valid_uid = 1',
      'ssl = required',
      `ssl_cert = <${cert}`,
      `ssl_key = <${key}`,
      'disable_plaintext_auth = yes',
      'auth_mechanisms = plain login',
      `passdb {\n  driver = passwd-file\n  args = scheme=PLAIN ${path.join(dir, 'users')}\n}`,
      `userdb {\n  driver = static\n  args = uid=${mailUser} gid=${mailGroup} home=${mail}/%u\n}`,
      'mail_location = maildir:~/Maildir',
      `service imap-login {\n  chroot =\n  inet_listener imap {\n    port = 0\n  }\n  inet_listener imaps {\n    port = ${port}\n    ssl = yes\n  }\n}`,
      'service anvil {\n  chroot =\n}',
      '',
    ].join('\n'),
  );
  let output = '';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const start = async () => {
    // Its own process group: stopping it ends the master and every session process it started.
    const started = spawn(dovecotBinary, ['-F', '-c', conf], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    started.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    started.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    exited = new Promise<void>((resolve) => started.once('exit', () => resolve()));
    child = started;
    const deadline = Date.now() + 20_000;
    while (!(await accepts(port))) {
      if (started.exitCode !== null || Date.now() > deadline)
        throw new Error(`dovecot did not listen on ${port}:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  await start();
  const ca = readFileSync(cert);
  const client = async <T>(use: (imap: ImapFlow) => Promise<T>): Promise<T> => {
    const imap = new ImapFlow({
      host: 'localhost',
      port,
      secure: true,
      auth: { user: DOVECOT_USER, pass: DOVECOT_PASSWORD },
      logger: false,
      disableAutoIdle: true,
      tls: { ca },
    });
    imap.on('error', () => {});
    await imap.connect();
    try {
      return await use(imap);
    } finally {
      await imap.logout().catch(() => imap.close());
    }
  };
  return {
    dir,
    port,
    certFile: cert,
    url: `imaps://${DOVECOT_USER}:${DOVECOT_PASSWORD}@localhost:${port}/INBOX`,
    output: () => output,
    deliver: (raw, folder = 'INBOX') =>
      client(async (imap) => {
        await imap.append(folder, raw);
      }),
    messageIds: (folder) =>
      client(async (imap) => {
        const exists = await imap.status(folder, { messages: true }).catch(() => null);
        if (exists === null || exists === false || !exists.messages) return [];
        const lock = await imap.getMailboxLock(folder);
        try {
          const messages = await imap.fetchAll('1:*', { envelope: true });
          return messages.map((message) => message.envelope?.messageId ?? '').sort();
        } finally {
          lock.release();
        }
      }),
    async stop() {
      const pid = child?.pid;
      if (pid === undefined) return;
      // The master alone would leave its session processes serving the connections they hold: the
      // whole group goes at once, as on a crash of the machine.
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await exited;
      const deadline = Date.now() + 10_000;
      while ((await accepts(port)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    },
    restart: start,
  };
}

function groupName(): string {
  try {
    return execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
  } catch {
    return 'nogroup';
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
