import type { Config } from '../config.ts';
import type { Mailer } from './mailer.ts';
import { createOutboxMailer } from './outbox-mailer.ts';
import { createSmtpMailer, readDkimKey } from './smtp-mailer.ts';

/**
 * The mailer the configuration asks for: pooled SMTP when SMTP_URL is set (with DKIM when configured),
 * otherwise the outbox folder. Throws when the DKIM key file cannot be read.
 */
export function createMailer(config: Config): Mailer {
  if (!config.smtp.url) return createOutboxMailer(config.outboxDir);
  return createSmtpMailer({
    url: config.smtp.url,
    maxConnections: config.smtp.maxConnections,
    dkim: config.dkim
      ? {
          domain: config.dkim.domain,
          selector: config.dkim.selector,
          privateKey: readDkimKey(config.dkim.privateKeyFile),
        }
      : undefined,
  });
}
