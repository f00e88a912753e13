import type { Config } from '../config.ts';
import { createMessageComposer } from './compose-mime.ts';
import type { Mailer } from './mailer.ts';
import { createOutboxMailer } from './outbox-mailer.ts';
import { createSmtpMailer, readDkimKey } from './smtp-mailer.ts';

/** What building the mailer reads: SMTP_URL and its pool, DKIM, the outbox folder. */
export type MailerSettings = Pick<Config, 'smtp' | 'dkim' | 'outboxDir'>;

/**
 * The mailer the configuration asks for: pooled SMTP when SMTP_URL is set, otherwise the outbox
 * folder. Both write the bytes of one composer, DKIM-signed when DKIM is configured. Throws when the
 * DKIM key file cannot be read.
 */
export function createMailer(config: MailerSettings): Mailer {
  const composer = createMessageComposer({
    dkim: config.dkim
      ? {
          domain: config.dkim.domain,
          selector: config.dkim.selector,
          privateKey: readDkimKey(config.dkim.privateKeyFile),
        }
      : undefined,
  });
  if (!config.smtp.url) return createOutboxMailer(config.outboxDir, composer);
  return createSmtpMailer({
    url: config.smtp.url,
    maxConnections: config.smtp.maxConnections,
    composer,
  });
}
