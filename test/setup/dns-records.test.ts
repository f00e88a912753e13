import { describe, expect, it } from 'vitest';
import {
  bounceRouteText,
  formatRecord,
  type MailDomainSettings,
  recordsToPublish,
  spfRecord,
  splitTxt,
} from '../../src/setup/dns-records.ts';

const own: MailDomainSettings = {
  fromEmail: 'recap@example.org',
  bounceDomain: 'bounces.example.org',
  relay: 'own',
  smtpHost: 'mail.example.org',
  dkim: { domain: 'example.org', selector: 'recap', publicKeyBase64: 'A'.repeat(392) },
};

describe('the DNS records recap init prints and recap doctor repeats', () => {
  it('names each known relay in SPF, Resend on its send. subdomain, and says a placeholder is one', () => {
    const spf = (smtpHost: string) =>
      spfRecord({ ...own, relay: 'esp', bounceDomain: 'example.org', smtpHost });
    expect(spf('email-smtp.eu-west-1.amazonaws.com').values).toEqual(['v=spf1 include:amazonses.com ~all']);
    expect(spf('smtp.sendgrid.net').values).toEqual(['v=spf1 include:sendgrid.net ~all']);
    expect(spf('smtp.eu.mailgun.org').values).toEqual(['v=spf1 include:mailgun.org ~all']);
    expect(spf('smtp.postmarkapp.com').values).toEqual(['v=spf1 include:spf.mtasv.net ~all']);
    expect(spf('smtp-relay.brevo.com').values).toEqual(['v=spf1 include:spf.brevo.com ~all']);
    expect(spf('smtp.resend.com')).toMatchObject({ name: 'send.example.org', placeholder: false });
    const unknown = spf('smtp.relay.example.net');
    expect(unknown).toMatchObject({
      placeholder: true,
      values: ["v=spf1 include:<your relay's SPF domain> ~all"],
    });
    expect(unknown.why).toContain('REPLACE the placeholder');
    expect(spfRecord(own).values).toEqual(['v=spf1 a:mail.example.org ~all']);
    expect(spfRecord({ ...own, smtpHost: '192.0.2.7' }).values).toEqual(['v=spf1 ip4:192.0.2.7 ~all']);
    expect(spfRecord({ ...own, smtpHost: '127.0.0.1' }).placeholder).toBe(true);
  });

  it('splits TXT values into strings of at most 255 bytes that join back to the value', () => {
    for (const length of [0, 1, 255, 256, 410, 800]) {
      const value = 'x'.repeat(length);
      const parts = splitTxt(value);
      expect(parts.join('')).toBe(value);
      expect(parts.every((part) => Buffer.byteLength(part) <= 255)).toBe(true);
    }
    const [, dkim] = recordsToPublish(own);
    expect(dkim?.values.map((part) => part.length)).toEqual([255, 392 + 18 - 255]);
    if (!dkim) throw new Error('no DKIM record');
    expect(formatRecord(dkim)).toMatch(
      /^recap\._domainkey\.example\.org\. 3600 IN TXT \( "v=DKIM1; k=rsa; p=A+"\n {4}"A+" \)$/m,
    );
  });

  it('starts DMARC at p=none with a report address, and gives an own MTA a bounce MX but never one on the From domain', () => {
    const records = recordsToPublish(own);
    expect(records.map((r) => `${r.what} ${r.name}`)).toEqual([
      'SPF bounces.example.org',
      'DKIM recap._domainkey.example.org',
      'DMARC _dmarc.example.org',
      'bounce MX bounces.example.org',
    ]);
    expect(records[2]?.values).toEqual([
      'v=DMARC1; p=none; rua=mailto:dmarc-reports@example.org; adkim=r; aspf=r',
    ]);
    expect(records[3]?.values).toEqual(['10 mail.example.org.']);
    expect(recordsToPublish({ ...own, bounceDomain: 'example.org' }).map((r) => r.what)).not.toContain(
      'bounce MX',
    );
    expect(
      recordsToPublish({ ...own, relay: 'esp', smtpHost: 'smtp.sendgrid.net' }).map((r) => r.what),
    ).not.toContain('bounce MX');
    expect(bounceRouteText(own)).toContain(
      'an MX on example.org itself would take over the mail of your whole domain',
    );
    expect(bounceRouteText({ ...own, relay: 'esp', smtpHost: 'smtp.sendgrid.net' })).toMatch(
      /^Bounces: SendGrid rewrites the return path.*\n.*coming feature.*\n`recap doctor` warns/,
    );
  });
});
