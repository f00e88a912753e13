import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../../src/cli/app.ts';
import { imapBounceMailbox } from '../../../src/cli/imap-bounce-mailbox.ts';
import { loadConfig } from '../../../src/config.ts';
import type { InboundOutcome } from '../../../src/delivery/bounces/handle-inbound.ts';
import {
  type BounceMailbox,
  HANDLED_FOLDER,
  MAX_MAILBOX_MESSAGE_BYTES,
  type MailboxPollResult,
  pollBounceMailbox,
  STALE_CLAIM_MS,
  startBounceMailboxPoller,
  UNHANDLED_FOLDER,
} from '../../../src/delivery/bounces/poll-bounce-mailbox.ts';
import { type RunningDovecot, startDovecot } from '../../support/dovecot.ts';
import { createTestApp, type Seeded, seedIssue } from '../../web/web-fixtures.ts';
import {
  bounceAddress,
  mailboxArf,
  mailboxDsn,
  mailboxOutOfOffice,
  mailboxSpam,
} from './mailbox-fixtures.ts';

let app: App;
let seed: Seeded;
let dovecot: RunningDovecot;
let mailbox: BounceMailbox;
const logged: string[] = [];

beforeAll(async () => {
  dovecot = await startDovecot();
  app = await createTestApp({ BOUNCE_IMAP_URL: dovecot.url });
  seed = await seedIssue(app.db);
  const settings = app.config.bounceMailbox;
  if (!settings) throw new Error('BOUNCE_IMAP_URL was not read');
  // The test server's own certificate, trusted as NODE_EXTRA_CA_CERTS makes it trusted for the CLI.
  mailbox = imapBounceMailbox(settings, (line) => logged.push(line), readFileSync(dovecot.certFile, 'utf8'));
}, 60_000);
afterAll(async () => {
  await dovecot?.stop();
  await app?.close();
});
beforeEach(async () => {
  logged.length = 0;
  await app.db.updateTable('subscribers').set({ status: 'active', unsubscribed_at: null }).execute();
});

const statusOf = async (id: string) =>
  (await app.db.selectFrom('subscribers').select('status').where('id', '=', id).executeTakeFirstOrThrow())
    .status;
const consentActions = async (id: string) =>
  (
    await app.db
      .selectFrom('consent_log')
      .select('action')
      .where('subscriber_id', '=', id)
      .orderBy('id')
      .execute()
  ).map((row) => row.action);

const acted = (outcomes: InboundOutcome[]) => outcomes.filter((outcome) => outcome.kind !== 'dropped');

describe('bounce mailbox (Dovecot over TLS)', () => {
  it('acts on the DSN and the ARF once across two pollers at once and a restart; the out-of-office and spam end in Recap-Unhandled', async () => {
    await dovecot.deliver(mailboxDsn(bounceAddress(seed.alice, seed.issueId), '<dsn-1@mx.example.org>'));
    await dovecot.deliver(mailboxArf(bounceAddress(seed.bob, seed.issueId), '<arf-1@isp.example>'));
    await dovecot.deliver(mailboxOutOfOffice(bounceAddress(seed.bob, seed.issueId), '<ooo-1@example.org>'));
    await dovecot.deliver(mailboxSpam('<spam-1@spam.example>'));

    const outcomes: InboundOutcome[] = [];
    const poll = (owner: string) =>
      pollBounceMailbox(app, mailbox, {
        owner,
        log: (line) => logged.push(line),
        onOutcome: (list) => outcomes.push(...list),
      });
    const both = await Promise.all([poll('poller-a'), poll('poller-b')]);
    const total = (key: keyof MailboxPollResult) => both.reduce((sum, result) => sum + result[key], 0);
    expect(total('handled')).toBe(2);
    expect(total('unhandled')).toBe(2);

    expect(acted(outcomes)).toEqual(
      expect.arrayContaining([
        { kind: 'hard-bounce', subscriberId: seed.alice, status: '5.1.1' },
        { kind: 'complaint', subscriberId: seed.bob },
      ]),
    );
    expect(acted(outcomes)).toHaveLength(2);
    expect(outcomes.filter((outcome) => outcome.kind === 'dropped')).toHaveLength(2);
    expect(await statusOf(seed.alice)).toBe('bounced');
    expect(await statusOf(seed.bob)).toBe('complained');
    expect(await consentActions(seed.alice)).toEqual(['suppressed-hard-bounce']);
    expect(await consentActions(seed.bob)).toEqual(['complaint']);

    expect(await dovecot.messageIds('INBOX')).toEqual([]);
    expect(await dovecot.messageIds(HANDLED_FOLDER)).toEqual([
      '<arf-1@isp.example>',
      '<dsn-1@mx.example.org>',
    ]);
    expect(await dovecot.messageIds(UNHANDLED_FOLDER)).toEqual([
      '<ooo-1@example.org>',
      '<spam-1@spam.example>',
    ]);
    expect(logged.join('\n')).toContain('<ooo-1@example.org>');

    // A restart: a new poller finds nothing left to act on.
    outcomes.length = 0;
    expect(await poll('poller-c')).toEqual({ handled: 0, unhandled: 0, movedLate: 0, skipped: 0 });
    expect(outcomes).toEqual([]);
    expect(await consentActions(seed.alice)).toEqual(['suppressed-hard-bounce']);
  }, 60_000);

  it('a process stopped between acting and moving: the next one moves the message without acting again', async () => {
    await app.db.deleteFrom('consent_log').execute();
    await dovecot.deliver(mailboxDsn(bounceAddress(seed.alice, seed.issueId), '<dsn-2@mx.example.org>'));
    const outcomes: InboundOutcome[] = [];
    const crashingOnMove: BounceMailbox = {
      identity: mailbox.identity,
      async open() {
        const session = await mailbox.open();
        return {
          ...session,
          uidValidity: session.uidValidity,
          move: async () => {
            throw new Error('connection lost');
          },
        };
      },
    };
    await expect(
      pollBounceMailbox(app, crashingOnMove, {
        owner: 'crashes',
        log: (line) => logged.push(line),
        onOutcome: (list) => outcomes.push(...list),
      }),
    ).rejects.toThrow('connection lost');
    expect(acted(outcomes)).toEqual([{ kind: 'hard-bounce', subscriberId: seed.alice, status: '5.1.1' }]);
    expect(await dovecot.messageIds('INBOX')).toEqual(['<dsn-2@mx.example.org>']);

    // At once, the message is left alone: its poller may still be moving it.
    const soon = await pollBounceMailbox(app, mailbox, {
      owner: 'restarted',
      log: (line) => logged.push(line),
    });
    expect(soon).toEqual({ handled: 0, unhandled: 0, movedLate: 0, skipped: 1 });
    // Restarted minutes later, the claim is stale.
    await app.db
      .updateTable('bounce_mailbox_messages')
      .set({ claimed_at: new Date(Date.now() - STALE_CLAIM_MS - 1000) })
      .execute();
    const after = await pollBounceMailbox(app, mailbox, {
      owner: 'restarted',
      log: (line) => logged.push(line),
      onOutcome: (list) => outcomes.push(...list),
    });
    expect(after).toEqual({ handled: 0, unhandled: 0, movedLate: 1, skipped: 0 });
    expect(acted(outcomes)).toHaveLength(1);
    expect(await dovecot.messageIds('INBOX')).toEqual([]);
    expect(await dovecot.messageIds(HANDLED_FOLDER)).toContain('<dsn-2@mx.example.org>');
    expect(await consentActions(seed.alice)).toEqual(['suppressed-hard-bounce']);
  }, 60_000);

  it('leaves a message over 5 MB unread in Recap-Unhandled', async () => {
    const filler = `${'x'.repeat(76)}\r\n`.repeat(Math.ceil(MAX_MAILBOX_MESSAGE_BYTES / 78) + 10);
    const dsn = mailboxDsn(bounceAddress(seed.alice, seed.issueId), '<dsn-huge@mx.example.org>');
    await dovecot.deliver(dsn.replace('I could not deliver your message.', filler));
    const outcomes: InboundOutcome[] = [];
    const result = await pollBounceMailbox(app, mailbox, {
      owner: 'sizes',
      log: (line) => logged.push(line),
      onOutcome: (list) => outcomes.push(...list),
    });
    expect(result).toMatchObject({ handled: 0, unhandled: 1 });
    expect(outcomes).toEqual([]);
    expect(await statusOf(seed.alice)).toBe('active');
    expect(await dovecot.messageIds(UNHANDLED_FOLDER)).toContain('<dsn-huge@mx.example.org>');
    expect(logged.join('\n')).toMatch(/left UID \d+ unread \(Recap-Unhandled\): \d+ bytes/);
  }, 60_000);

  it('a server stopped mid-poll is logged and retried with back-off; polling goes on once it is back', async () => {
    await dovecot.deliver(mailboxDsn(bounceAddress(seed.bob, seed.issueId), '<dsn-3@mx.example.org>'));
    const outcomes: InboundOutcome[] = [];
    const polls: Array<MailboxPollResult | Error> = [];
    let stopped = false;
    const stoppingMidPoll: BounceMailbox = {
      identity: mailbox.identity,
      async open() {
        const session = await mailbox.open();
        return {
          ...session,
          uidValidity: session.uidValidity,
          fetch: async (uid: number) => {
            if (!stopped) {
              stopped = true;
              await dovecot.stop();
            }
            return session.fetch(uid);
          },
        };
      },
    };
    const poller = startBounceMailboxPoller(app, stoppingMidPoll, {
      owner: 'outage',
      intervalMs: 300,
      retryMs: 200,
      log: (line) => logged.push(line),
      onOutcome: (list) => outcomes.push(...list),
      onPoll: (result) => polls.push(result),
    });
    try {
      await poller.first;
      const until = async (done: () => boolean, what: string) => {
        const deadline = Date.now() + 20_000;
        while (!done()) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${logged.join('\n')}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      };
      // The poll in flight fails, then so do the retries while the server is down (refused).
      await until(() => polls.filter((poll) => poll instanceof Error).length >= 3, 'three failed polls');
      expect(outcomes).toEqual([]);
      const failures = logged.filter((line) => line.includes('poll failed'));
      expect(failures[0]).toMatch(/retry 1 in [\d.]+ s/);
      expect(failures[2]).toMatch(/retry 3 in/);
      expect(await statusOf(seed.bob)).toBe('active');

      await dovecot.restart();
      await until(() => logged.some((line) => line.includes('reachable again')), 'a poll after the restart');
      expect(acted(outcomes)).toEqual([{ kind: 'hard-bounce', subscriberId: seed.bob, status: '5.1.1' }]);
      expect(await statusOf(seed.bob)).toBe('bounced');
    } finally {
      await poller.stop();
    }
    expect(await dovecot.messageIds(HANDLED_FOLDER)).toContain('<dsn-3@mx.example.org>');
  }, 60_000);
});

describe('BOUNCE_IMAP_URL', () => {
  const load = (env: Record<string, string>) =>
    loadConfig(
      { NODE_ENV: 'test', RECAP_SECRET: 'x'.repeat(40), RECAP_FROM_EMAIL: 'recap@recap.test', ...env },
      { dotenvPath: '/nonexistent/.env' },
    );

  it('reads host, port, user, password (percent-decoded) and folder; TLS is always on', () => {
    const settings = load({
      BOUNCE_IMAP_URL: 'imaps://bounces%40example.org:p%40ss@imap.example.org/Bounces',
      BOUNCE_IMAP_POLL_SECONDS: '30',
    }).bounceMailbox;
    expect(settings).toMatchObject({
      host: 'imap.example.org',
      port: 993,
      implicitTls: true,
      user: 'bounces@example.org',
      password: 'p@ss',
      folder: 'Bounces',
      pollMs: 30_000,
    });
    expect(settings?.label).not.toContain('p%40ss');
    expect(load({ BOUNCE_IMAP_URL: 'imap://u:p@imap.example.org' }).bounceMailbox).toMatchObject({
      port: 143,
      implicitTls: false,
      folder: 'INBOX',
      pollMs: 60_000,
    });
    expect(load({}).bounceMailbox).toBeUndefined();
  });

  it('refuses another scheme or a URL without credentials, naming the variable and hiding the password', () => {
    expect(() => load({ BOUNCE_IMAP_URL: 'pop3://u:secret@mail.example.org' })).toThrow(/BOUNCE_IMAP_URL/);
    expect(() => load({ BOUNCE_IMAP_URL: 'imaps://imap.example.org/INBOX' })).toThrow(
      /BOUNCE_IMAP_URL: expected the user and password/,
    );
    try {
      load({ BOUNCE_IMAP_URL: 'pop3://u:secret-word@mail.example.org' });
    } catch (error) {
      expect(String(error)).not.toContain('secret-word');
    }
  });
});
