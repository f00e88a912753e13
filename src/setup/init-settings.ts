import dotenv from 'dotenv';
import type { RelayKind } from './dns-records.ts';
import type { InitAnswers } from './init-questions.ts';

/** Everything `recap init` settled, with the generated values. */
export interface InitSettings {
  answers: InitAnswers;
  relay: RelayKind;
  secret: string;
  editorToken: string;
  /** Absolute path of the DKIM private key. */
  dkimKeyFile: string;
  bounceSmtpPort: number | undefined;
  /** RECAP_SECRET of the `.env` being replaced, kept so links already mailed keep working. */
  previousSecrets: string[];
}

/** The variables written to `.env`, in order; unset ones are left out. Pure. */
export function envValues(settings: InitSettings): Array<[string, string]> {
  const a = settings.answers;
  const trust = a['trust-proxy'];
  const entries: Array<[string, string | undefined]> = [
    ['NODE_ENV', 'production'],
    ['PUBLIC_URL', a['public-url']],
    ['EDITOR_URL', a['public-url']],
    ['RECAP_SECRET', settings.secret],
    ['RECAP_PREVIOUS_SECRETS', settings.previousSecrets.join(',') || undefined],
    ['EDITOR_TOKEN', settings.editorToken],
    ['DATABASE_URL', a['database-url']],
    ['SMTP_URL', a['smtp-url']],
    ['RECAP_FROM_NAME', a['from-name']],
    ['RECAP_FROM_EMAIL', a['from-email']],
    ['RECAP_POSTAL_ADDRESS', a['postal-address']],
    ['TEST_RECIPIENTS', a['test-recipients']],
    ['BOUNCE_DOMAIN', settings.relay === 'own' ? a['bounce-domain'] : undefined],
    ['BOUNCE_SMTP_PORT', settings.bounceSmtpPort === undefined ? undefined : String(settings.bounceSmtpPort)],
    ['DKIM_DOMAIN', a['dkim-domain']],
    ['DKIM_SELECTOR', a['dkim-selector']],
    ['DKIM_PRIVATE_KEY_FILE', settings.dkimKeyFile],
    ['TRUST_PROXY', trust && trust !== 'none' ? trust : undefined],
  ];
  return entries.filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '');
}

/**
 * The `.env` text: a header, then one `NAME=value` line per variable, quoted where needed. Throws when
 * the text would not read back as the same values (a value dotenv cannot hold). Pure.
 */
export function envFileText(values: Array<[string, string]>, writtenAt: Date): string {
  const lines = [
    `# Written by \`recap init\` on ${writtenAt.toISOString().slice(0, 10)}. Keep this file private (mode 0600):`,
    '# RECAP_SECRET signs every link in mail, EDITOR_TOKEN opens the editor. Every variable: .env.example.',
    ...values.map(([name, value]) => `${name}=${quoteEnvValue(value)}`),
    '',
  ];
  const text = lines.join('\n');
  const readBack = dotenv.parse(text);
  for (const [name, value] of values) {
    if (readBack[name] !== value) throw new Error(`${name}: the value cannot be written to .env as it is`);
  }
  return text;
}

function quoteEnvValue(value: string): string {
  if (/^[\w@.:/+,=-]*$/.test(value)) return value;
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes('"') && !value.includes('\\')) return `"${value}"`;
  return `\`${value}\``;
}
