import { domainOf, knownRelayOf, proposedBounceDomain, smtpHostOf } from './dns-records.ts';

/**
 * What `recap init` asks for, each under the flag named after what it sets, and how an answer is
 * checked. Pure: the prompts, the files and the random values are the caller's.
 */
export interface InitQuestion {
  /** The flag, without `--`. */
  flag: string;
  /** The variable it sets (for the one-line refusal). */
  variable: string;
  /** What the value is, in a few words. */
  what: string;
  prompt: string;
  required: boolean;
  /** An error message, or null when the answer is usable. */
  check(value: string): string | null;
}

const isHttpUrl = (value: string) => urlWith(value, ['http:', 'https:']);
// Light on purpose (the questions load with `recap --help`); the configuration's own check runs on the result.
const isEmail = (value: string) =>
  /^[^\s@"(),:;<>[\\\]]+@([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/i.test(value);

function urlWith(value: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

const isDomain = (value: string) =>
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(value);

const oneLine = (value: string) => (/[\r\n\0]/.test(value) ? 'expected one line of text' : null);

/** The questions in the order they are asked. */
export const INIT_QUESTIONS: readonly InitQuestion[] = [
  {
    flag: 'public-url',
    what: 'the address readers open',
    variable: 'PUBLIC_URL',
    prompt: 'Public URL readers open (links in mail start here), e.g. https://recap.example.org',
    required: true,
    check: (v) => (isHttpUrl(v) ? null : 'expected an http(s):// URL, e.g. https://recap.example.org'),
  },
  {
    flag: 'from-email',
    what: 'the sender address',
    variable: 'RECAP_FROM_EMAIL',
    prompt: 'Sender address (From), e.g. recap@example.org',
    required: true,
    check: (v) => (isEmail(v) ? null : 'expected an email address, e.g. recap@example.org'),
  },
  {
    flag: 'from-name',
    what: 'the sender name',
    variable: 'RECAP_FROM_NAME',
    prompt: 'Sender name',
    required: false,
    check: oneLine,
  },
  {
    flag: 'postal-address',
    what: 'the postal address in the footer',
    variable: 'RECAP_POSTAL_ADDRESS',
    prompt: 'Postal address for the footer (required by anti-spam laws)',
    required: true,
    check: oneLine,
  },
  {
    flag: 'smtp-url',
    what: 'the SMTP relay',
    variable: 'SMTP_URL',
    prompt: 'SMTP relay, smtp://user:password@host:587 (or smtps:// for TLS from the start)',
    required: true,
    check: (v) => (urlWith(v, ['smtp:', 'smtps:']) ? null : 'expected an smtp:// or smtps:// URL'),
  },
  {
    flag: 'database-url',
    what: 'the PostgreSQL server',
    variable: 'DATABASE_URL',
    prompt:
      'PostgreSQL URL, postgres://user:password@host:5432/recap (empty: embedded database, one machine)',
    required: false,
    check: (v) => (urlWith(v, ['postgres:', 'postgresql:']) ? null : 'expected a postgres:// URL'),
  },
  {
    flag: 'relay',
    what: 'own mail server or email service',
    variable: 'relay',
    prompt: 'Does mail leave through your own mail server (own) or an email service such as SES (esp)?',
    required: false,
    check: (v) => (v === 'own' || v === 'esp' ? null : 'expected own or esp'),
  },
  {
    flag: 'bounce-domain',
    what: 'the domain of the return path',
    variable: 'BOUNCE_DOMAIN',
    prompt: 'Bounce domain (the return path bounces+…@; its MX points at your mail server)',
    required: false,
    check: (v) => (isDomain(v) ? null : 'expected a domain name, e.g. bounces.example.org'),
  },
  {
    flag: 'dkim-domain',
    what: 'the DKIM signing domain',
    variable: 'DKIM_DOMAIN',
    prompt: 'DKIM signing domain',
    required: false,
    check: (v) => (isDomain(v) ? null : 'expected a domain name, e.g. example.org'),
  },
  {
    flag: 'dkim-selector',
    what: 'the DKIM selector',
    variable: 'DKIM_SELECTOR',
    prompt: 'DKIM selector (the key is published at <selector>._domainkey.<domain>)',
    required: false,
    check: (v) => (/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(v) ? null : 'expected letters, digits and -'),
  },
  {
    flag: 'trust-proxy',
    what: 'the proxies in front of recap serve',
    variable: 'TRUST_PROXY',
    prompt: 'Proxies in front of recap serve whose client address to believe: a hop count, or none',
    required: false,
    check: (v) =>
      v === 'none' || /^[1-9][0-9]?$/.test(v) || /^[0-9a-f.:/,\s]+$/i.test(v)
        ? null
        : 'expected a hop count (1), proxy addresses/CIDRs, or none',
  },
  {
    flag: 'test-recipients',
    what: 'where editor test sends may go',
    variable: 'TEST_RECIPIENTS',
    prompt: 'Addresses the editor may send tests to, comma-separated',
    required: false,
    check: (v) =>
      v
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean)
        .every(isEmail)
        ? null
        : 'expected comma-separated email addresses',
  },
  {
    flag: 'dmarc-report',
    what: 'where DMARC reports go',
    variable: 'DMARC rua',
    prompt: 'Address DMARC aggregate reports go to',
    required: false,
    check: (v) => (isEmail(v) ? null : 'expected an email address'),
  },
];

export type InitAnswers = Partial<Record<string, string>>;

/**
 * The default of a question given the answers so far (undefined: none, the value stays unset). Pure.
 * The relay follows the SMTP host (a known email service is `esp`); an own MTA gets the bounce
 * subdomain; DKIM signs for the From domain; an https PUBLIC_URL implies one proxy (recap serve speaks
 * plain HTTP); test sends go to the sender.
 */
export function defaultAnswer(flag: string, answers: InitAnswers): string | undefined {
  const from = answers['from-email'];
  switch (flag) {
    case 'from-name':
      return 'Weekly AI Recap';
    case 'relay':
      return knownRelayOf(smtpHostOf(answers['smtp-url'])) ? 'esp' : 'own';
    case 'bounce-domain':
      return from && answers.relay !== 'esp' ? proposedBounceDomain(from) : undefined;
    case 'dkim-domain':
      return from ? domainOf(from) : undefined;
    case 'dkim-selector':
      return 'recap';
    case 'trust-proxy':
      return answers['public-url']?.startsWith('https://') ? '1' : 'none';
    case 'test-recipients':
      return from;
    case 'dmarc-report':
      return from ? `dmarc-reports@${domainOf(from)}` : undefined;
    default:
      return undefined;
  }
}
