import type { Config } from '../config.ts';
import { createMessageComposer, type MessageComposer } from './compose-mime.ts';
import type { Mailer } from './mailer.ts';
import { createOutboxMailer } from './outbox-mailer.ts';
import { createRelayPoolMailer } from './relay-pool-mailer.ts';
import { createSmtpMailer, readDkimKey } from './smtp-mailer.ts';

/** What building the mailer reads: SMTP_URL or SMTP_URLS and their pools, SYSTEM_SMTP_URL, DKIM, the outbox folder. */
export type MailerSettings = Pick<Config, 'smtp' | 'dkim' | 'outboxDir'>;

export interface MailerOptions {
  /** Where the relay pool tells of relays taken out and back; default silent. */
  log?: (line: string) => void;
}

/** Connections of the system mails' own pool: a few mails an hour, but never behind a weekly send. */
const SYSTEM_MAX_CONNECTIONS = 2;

/**
 * The bulk mailer the configuration asks for: pooled SMTP when SMTP_URL is set, several relays chosen by
 * weight (each its own pool, see createRelayPoolMailer) with SMTP_URLS, otherwise the outbox folder. Every
 * one writes the bytes of one composer, DKIM-signed when DKIM is configured. Throws when the DKIM key
 * file cannot be read.
 */
export function createMailer(config: MailerSettings, options: MailerOptions = {}): Mailer {
  const composer = composerFor(config);
  const { relays, maxConnections } = config.smtp;
  if (relays.length === 0) return createOutboxMailer(config.outboxDir, composer);
  if (relays.length === 1)
    return createSmtpMailer({ url: (relays[0] as { url: string }).url, maxConnections, composer });
  return createRelayPoolMailer(
    relays.map((relay) => ({
      name: relay.name,
      weight: relay.weight,
      mailer: createSmtpMailer({ url: relay.url, maxConnections, composer }),
    })),
    options.log ? { log: options.log } : {},
  );
}

/**
 * The mailer of sign-up confirmations, welcome and goodbye mails, re-engagement, alerts and test sends:
 * SYSTEM_SMTP_URL, else the bulk relays through pools of their own, so these never queue behind a
 * weekly send's messages; the outbox folder without any relay. Throws when the DKIM key cannot be read.
 */
export function createSystemMailer(config: MailerSettings, options: MailerOptions = {}): Mailer {
  const { systemUrl } = config.smtp;
  if (!systemUrl)
    return createMailer(
      { ...config, smtp: { ...config.smtp, maxConnections: SYSTEM_MAX_CONNECTIONS } },
      options,
    );
  return createSmtpMailer({
    url: systemUrl,
    maxConnections: SYSTEM_MAX_CONNECTIONS,
    composer: composerFor(config),
  });
}

function composerFor(config: MailerSettings): MessageComposer {
  return createMessageComposer({
    dkim: config.dkim
      ? {
          domain: config.dkim.domain,
          selector: config.dkim.selector,
          privateKey: readDkimKey(config.dkim.privateKeyFile),
        }
      : undefined,
  });
}
