import { isIP } from 'node:net';

/**
 * The DNS records a receiver checks before it trusts the recap's mail, built from the settings alone:
 * `recap init` prints them once, and `recap doctor` prints the one that fixes a failed check. Pure.
 */

/** How mail leaves: through a mail server the operator runs, or through an email service's relay. */
export type RelayKind = 'own' | 'esp';

/** An email service whose SMTP relay we recognise by host name. */
export interface KnownRelay {
  name: string;
  /** Its SPF mechanism, e.g. `include:amazonses.com`. */
  spfInclude: string;
  /** Where that SPF record goes when not on the envelope domain itself (Resend: `send.` subdomain). */
  spfSubdomain?: string;
}

const KNOWN_RELAYS: Array<{ host: RegExp; relay: KnownRelay }> = [
  {
    host: /^email-smtp(-fips)?\.[a-z0-9-]+\.amazonaws\.com$/,
    relay: { name: 'Amazon SES', spfInclude: 'include:amazonses.com' },
  },
  { host: /^smtp\.sendgrid\.net$/, relay: { name: 'SendGrid', spfInclude: 'include:sendgrid.net' } },
  { host: /^smtp(\.eu)?\.mailgun\.org$/, relay: { name: 'Mailgun', spfInclude: 'include:mailgun.org' } },
  {
    host: /^smtp(-broadcasts)?\.postmarkapp\.com$/,
    relay: { name: 'Postmark', spfInclude: 'include:spf.mtasv.net' },
  },
  {
    host: /^smtp-relay\.(brevo|sendinblue)\.com$/,
    relay: { name: 'Brevo', spfInclude: 'include:spf.brevo.com' },
  },
  {
    host: /^smtp\.resend\.com$/,
    relay: { name: 'Resend', spfInclude: 'include:amazonses.com', spfSubdomain: 'send' },
  },
];

/** The email service behind an SMTP relay host, when it is one we know; undefined otherwise. */
export function knownRelayOf(smtpHost: string | undefined): KnownRelay | undefined {
  const host = (smtpHost ?? '').toLowerCase().replace(/\.$/, '');
  return KNOWN_RELAYS.find((entry) => entry.host.test(host))?.relay;
}

/** The host of an smtp(s):// URL (brackets of an IPv6 address removed); undefined without one. */
export function smtpHostOf(smtpUrl: string | undefined): string | undefined {
  if (!smtpUrl) return undefined;
  try {
    return new URL(smtpUrl).hostname.replace(/^\[|\]$/g, '') || undefined;
  } catch {
    return undefined;
  }
}

/** What the records are built from. */
export interface MailDomainSettings {
  fromEmail: string;
  /** Domain of the VERP return path (`bounces+TOKEN@`): the envelope domain SPF is checked on. */
  bounceDomain: string;
  relay: RelayKind;
  smtpHost?: string | undefined;
  dkim?: { domain: string; selector: string; publicKeyBase64: string } | undefined;
  /** Where DMARC aggregate reports go (default `dmarc-reports@` the From domain). */
  dmarcReportEmail?: string | undefined;
  /** Port of the bounce listener the MTA forwards to (own MTA). */
  bounceSmtpPort?: number | undefined;
}

/** One record to publish, with a short reason; TXT values are the character strings as published. */
export interface DnsRecord {
  what: 'SPF' | 'DKIM' | 'DMARC' | 'bounce MX';
  name: string;
  type: 'TXT' | 'MX';
  /** TXT: character strings of at most 255 bytes each; MX: `priority host.`. */
  values: string[];
  /** Whether it holds a placeholder the operator must replace before publishing. */
  placeholder: boolean;
  why: string;
}

export function domainOf(address: string): string {
  return (address.split('@')[1] ?? 'localhost').toLowerCase();
}

/** A bounce subdomain for mail sent through the operator's own MTA: `bounces.<From domain>`. */
export function proposedBounceDomain(fromEmail: string): string {
  return `bounces.${domainOf(fromEmail)}`;
}

/** The SPF record of the envelope domain for this relay; a placeholder (said as such) where unknown. */
export function spfRecord(settings: MailDomainSettings): DnsRecord {
  const known = settings.relay === 'esp' ? knownRelayOf(settings.smtpHost) : undefined;
  if (known) {
    const name = known.spfSubdomain
      ? `${known.spfSubdomain}.${settings.bounceDomain}`
      : settings.bounceDomain;
    return {
      what: 'SPF',
      name,
      type: 'TXT',
      values: [`v=spf1 ${known.spfInclude} ~all`],
      placeholder: false,
      why: `${known.name} may send for ${name}`,
    };
  }
  const mechanism = sendingHostMechanism(settings);
  return {
    what: 'SPF',
    name: settings.bounceDomain,
    type: 'TXT',
    values: [`v=spf1 ${mechanism.text} ~all`],
    placeholder: mechanism.placeholder,
    why: `hosts that may send with the envelope domain ${settings.bounceDomain}${mechanism.placeholder ? `; REPLACE the placeholder in <…> (${mechanism.hint})` : ''}; one SPF record per name: merge into an existing one`,
  };
}

function sendingHostMechanism(settings: MailDomainSettings): {
  text: string;
  placeholder: boolean;
  hint: string;
} {
  const host = settings.smtpHost;
  if (settings.relay === 'esp')
    return {
      text: "include:<your relay's SPF domain>",
      placeholder: true,
      hint: 'your relay names its SPF include in its domain set-up page',
    };
  const local = !host || host === 'localhost' || /^127\.|^::1$/.test(host);
  if (local)
    return {
      text: 'ip4:<public address of this mail server>',
      placeholder: true,
      hint: 'the address your MTA connects to receivers from; ip6: for IPv6',
    };
  if (isIP(host) === 4) return { text: `ip4:${host}`, placeholder: false, hint: '' };
  if (isIP(host) === 6) return { text: `ip6:${host}`, placeholder: false, hint: '' };
  return { text: `a:${host}`, placeholder: false, hint: '' };
}

/** The DKIM public key record at `<selector>._domainkey.<domain>`, its value split into 255-byte strings. */
export function dkimRecord(dkim: { domain: string; selector: string; publicKeyBase64: string }): DnsRecord {
  return {
    what: 'DKIM',
    name: `${dkim.selector}._domainkey.${dkim.domain}`,
    type: 'TXT',
    values: splitTxt(`v=DKIM1; k=rsa; p=${dkim.publicKeyBase64}`),
    placeholder: false,
    why: 'the public half of DKIM_PRIVATE_KEY_FILE: receivers verify the signature with it',
  };
}

/** DMARC to start with: monitor only (`p=none`), relaxed alignment, aggregate reports to an address. */
export function dmarcRecord(settings: MailDomainSettings): DnsRecord {
  const fromDomain = domainOf(settings.fromEmail);
  const report = settings.dmarcReportEmail ?? `dmarc-reports@${fromDomain}`;
  return {
    what: 'DMARC',
    name: `_dmarc.${fromDomain}`,
    type: 'TXT',
    values: [`v=DMARC1; p=none; rua=mailto:${report}; adkim=r; aspf=r`],
    placeholder: false,
    why: `policy for mail From ${fromDomain}: p=none reports without rejecting; raise to p=quarantine once the reports at ${report} show only your own mail passing`,
  };
}

/** The MX that brings bounces, complaints and mailto unsubscribes of the bounce domain to the operator's MTA. */
export function bounceMxRecord(settings: MailDomainSettings): DnsRecord {
  const host = settings.smtpHost;
  const usable = host && !isIP(host) && host !== 'localhost';
  return {
    what: 'bounce MX',
    name: settings.bounceDomain,
    type: 'MX',
    values: [`10 ${usable ? host : '<host name of your MTA>'}.`],
    placeholder: !usable,
    why: usable
      ? `bounces+…@ and unsubscribe+…@${settings.bounceDomain} reach your MTA, which forwards them to the recap`
      : `bounces+…@ and unsubscribe+…@${settings.bounceDomain} reach your MTA; REPLACE the placeholder in <…>`,
  };
}

/** Every record to publish for these settings, in the order a receiver checks them, then the bounce MX. */
export function recordsToPublish(settings: MailDomainSettings): DnsRecord[] {
  return [
    spfRecord(settings),
    ...(settings.dkim ? [dkimRecord(settings.dkim)] : []),
    dmarcRecord(settings),
    ...(settings.relay === 'own' && settings.bounceDomain !== domainOf(settings.fromEmail)
      ? [bounceMxRecord(settings)]
      : []),
  ];
}

/** A TXT value as DNS carries it: character strings of at most 255 bytes (RFC 1035 3.3.14). */
export function splitTxt(value: string): string[] {
  const parts: string[] = [];
  let rest = Buffer.from(value, 'utf8');
  while (rest.length > 255) {
    parts.push(rest.subarray(0, 255).toString('utf8'));
    rest = rest.subarray(255);
  }
  parts.push(rest.toString('utf8'));
  return parts;
}

/**
 * One record in zone-file form with its reason above it, e.g.
 * `; DMARC: …` then `_dmarc.example.org. 3600 IN TXT "v=DMARC1; …"`; a split TXT value in parentheses.
 */
export function formatRecord(record: DnsRecord): string {
  const value =
    record.type === 'MX'
      ? (record.values[0] ?? '')
      : record.values.length === 1
        ? `"${record.values[0]}"`
        : `( ${record.values.map((part) => `"${part}"`).join('\n    ')} )`;
  return `; ${record.what}: ${record.why}\n${record.name}. 3600 IN ${record.type} ${value}`;
}

/**
 * Where bounces go, as text: for an own MTA, the bounce subdomain, its MX and the forwarding to the
 * listener (an MX on the From domain itself would take over the operator's mail); for an ESP, that
 * bounces arrive by the provider's webhook and `recap doctor` warns while none is configured.
 */
export function bounceRouteText(settings: MailDomainSettings): string {
  const fromDomain = domainOf(settings.fromEmail);
  if (settings.relay === 'esp') {
    const name = knownRelayOf(settings.smtpHost)?.name ?? 'your email service';
    return [
      `Bounces: ${name} rewrites the return path, so bounces and complaints come back by its webhook,`,
      'not by mail to the recap. Provider webhooks are a coming feature; until one is configured,',
      '`recap doctor` warns, and bounced addresses are only suppressed on the provider side.',
    ].join('\n');
  }
  const port = settings.bounceSmtpPort ?? 2525;
  const local = settings.bounceDomain.replace(/\./g, '\\.');
  return [
    `Bounces: the return path is bounces+TOKEN@${settings.bounceDomain}, a subdomain of its own:`,
    `an MX on ${fromDomain} itself would take over the mail of your whole domain. Relaxed SPF`,
    `alignment (aspf=r) counts ${settings.bounceDomain} as ${fromDomain}, so DMARC keeps passing.`,
    `Publish the MX above, accept ${settings.bounceDomain} on that MTA and forward the two address`,
    `patterns to the recap's listener (BOUNCE_SMTP_PORT=${port}), e.g. with Postfix:`,
    '  # /etc/postfix/main.cf',
    '  recipient_delimiter = +',
    `  relay_domains = ${settings.bounceDomain}`,
    '  transport_maps = regexp:/etc/postfix/recap_transport',
    '  # /etc/postfix/recap_transport',
    `  /^(bounces|unsubscribe)\\+.*@${local}$/   smtp:[127.0.0.1]:${port}`,
  ].join('\n');
}
