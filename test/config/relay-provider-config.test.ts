import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';

const load = (env: Record<string, string>) =>
  loadConfig(
    { NODE_ENV: 'test', RECAP_SECRET: 'test-secret-0123456789-abcdefghijklmnop', ...env },
    {
      dotenvPath: '/nonexistent/.env',
    },
  );

describe('relay provider and webhook settings', () => {
  it('tells the relay from the SMTP host unless SMTP_PROVIDER says otherwise', () => {
    const provider = (url: string, extra: Record<string, string> = {}) =>
      load({ SMTP_URL: url, ...extra }).smtp.provider;
    expect(provider('smtp://user:pw@email-smtp.eu-west-1.amazonaws.com:587')).toBe('ses');
    expect(provider('smtps://apikey:pw@smtp.sendgrid.net:465')).toBe('sendgrid');
    expect(provider('smtp://u:p@smtp.eu.mailgun.org:587')).toBe('mailgun');
    expect(provider('smtp://u:p@smtp.postmarkapp.com:587')).toBe('postmark');
    expect(provider('smtp://u:p@smtp.resend.com:587')).toBe('resend');
    expect(provider('smtp://mail.example.com:25')).toBe('other');
    expect(provider('smtp://relay.internal:25', { SMTP_PROVIDER: 'ses' })).toBe('ses');
    expect(provider('smtp://u:p@smtp.sendgrid.net:587', { SMTP_PROVIDER: 'other' })).toBe('other');
  });

  it('refuses half a Postmark credential, a short password, a secret not of the whsec_ form and a bad topic ARN', () => {
    expect(() => load({ POSTMARK_WEBHOOK_USER: 'hooks' })).toThrow(
      /POSTMARK_WEBHOOK_USER, POSTMARK_WEBHOOK_PASSWORD/,
    );
    expect(() => load({ POSTMARK_WEBHOOK_USER: 'hooks', POSTMARK_WEBHOOK_PASSWORD: 'short' })).toThrow(
      /POSTMARK_WEBHOOK_PASSWORD: expected at least 16/,
    );
    expect(() => load({ RESEND_WEBHOOK_SECRET: 'plain-secret' })).toThrow(
      /RESEND_WEBHOOK_SECRET: expected whsec_/,
    );
    expect(() => load({ SES_SNS_TOPIC_ARNS: 'my-topic' })).toThrow(/SES_SNS_TOPIC_ARNS/);
    expect(() => load({ SMTP_PROVIDER: 'gmail' })).toThrow(/SMTP_PROVIDER/);
    expect(load({}).webhooks).toMatchObject({
      sesTopicArns: [],
      postmark: undefined,
      standardSecret: undefined,
    });
  });
});
