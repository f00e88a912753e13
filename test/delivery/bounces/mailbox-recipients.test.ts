import { describe, expect, it } from 'vitest';
import { headerFields, mailboxRecipients } from '../../../src/delivery/bounces/mailbox-recipients.ts';

const TOKEN = 'k.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789';
const recipients = (head: string) => mailboxRecipients(headerFields(Buffer.from(`${head}\r\n\r\nbody\r\n`)));

describe('mailboxRecipients', () => {
  it('takes our token addresses from Delivered-To, X-Original-To and To, in that order, lower-cased and once', () => {
    expect(
      recipients(
        [
          'Delivered-To: bounces@recap.test',
          `X-Original-To: bounces+${TOKEN}@recap.test`,
          `To: "Recap" <Bounces+${TOKEN}@Recap.Test>, unsubscribe+${TOKEN}@recap.test`,
        ].join('\r\n'),
      ),
    ).toEqual([`bounces+${TOKEN}@recap.test`.toLowerCase(), `unsubscribe+${TOKEN}@recap.test`.toLowerCase()]);
  });

  it('reads folded header lines and ignores other fields, the body and addresses without a token', () => {
    const raw = Buffer.from(
      [
        'Delivered-To: bounces@recap.test',
        'To: someone@example.org,',
        `  bounces+${TOKEN}@recap.test`,
        `Cc: bounces+${TOKEN}x@recap.test`,
        '',
        `To: unsubscribe+${TOKEN}@recap.test`,
        '',
      ].join('\r\n'),
    );
    expect(mailboxRecipients(headerFields(raw))).toEqual([`bounces+${TOKEN}@recap.test`.toLowerCase()]);
    expect(recipients('To: bounces@recap.test\r\nSubject: bounces+ in the subject')).toEqual([]);
  });

  it('keeps at most five addresses', () => {
    const many = Array.from({ length: 8 }, (_, i) => `Delivered-To: bounces+${TOKEN}${i}@recap.test`).join(
      '\r\n',
    );
    expect(recipients(many)).toHaveLength(5);
  });
});
