import path from 'node:path';
import { createInterface } from 'node:readline';
import { loadConfig } from '../config.ts';
import { UserError } from '../errors.ts';
import { knownRelayOf, type RelayKind, smtpHostOf } from '../setup/dns-records.ts';
import {
  defaultAnswer,
  INIT_QUESTIONS,
  type InitAnswers,
  type InitQuestion,
} from '../setup/init-questions.ts';
import { envFileText, envValues, type InitSettings } from '../setup/init-settings.ts';
import { dnsInstructions } from '../setup/setup-text.ts';
import {
  newDkimKeyPair,
  newEditorToken,
  newSigningSecret,
  refuseToOverwrite,
  secretsOf,
  writePrivateFile,
} from '../setup/write-setup.ts';

export interface RunInitOptions {
  /** Answers given as flags, already checked. */
  given: InitAnswers;
  /** Ask on the terminal for what the flags did not give; else take defaults and refuse a missing required value. */
  interactive: boolean;
  force: boolean;
  dir: string;
  dkimKeyFile: string | undefined;
  bounceSmtpPort: number | undefined;
}

const DEFAULT_BOUNCE_SMTP_PORT = 2525;

/**
 * Settles every answer, writes the DKIM key and `.env` (both 0600, neither replaced without `force`),
 * and prints what was written, the DNS records to publish and where bounces go.
 */
export async function runInit(options: RunInitOptions): Promise<void> {
  const dir = path.resolve(options.dir);
  const envFile = path.join(dir, '.env');
  refuseToOverwrite([envFile], options.force);
  const answers = options.interactive ? await askAll(options.given) : takeFlags(options.given);
  const relay = (answers.relay ?? 'own') as RelayKind;
  const dkimKeyFile = path.resolve(
    options.dkimKeyFile ?? path.join(dir, 'dkim', `${answers['dkim-selector'] ?? 'recap'}.pem`),
  );
  refuseToOverwrite([dkimKeyFile], options.force);

  const settings: InitSettings = {
    answers,
    relay,
    secret: newSigningSecret(),
    editorToken: newEditorToken(),
    dkimKeyFile,
    bounceSmtpPort: relay === 'own' ? (options.bounceSmtpPort ?? DEFAULT_BOUNCE_SMTP_PORT) : undefined,
    previousSecrets: options.force ? secretsOf(envFile) : [],
  };
  const values = envValues(settings);
  // The same check every command makes at start: what init writes, doctor and serve load.
  loadConfig(Object.fromEntries(values), { dotenvPath: path.join(dir, '.env.init-never-read') });
  const text = envFileText(values, new Date());

  const key = newDkimKeyPair();
  writePrivateFile(dkimKeyFile, key.privateKeyPem, options.force);
  writePrivateFile(envFile, text, options.force);

  const out = (line = '') => process.stdout.write(`${line}\n`);
  out(`wrote ${envFile} (mode 0600): ${values.map(([name]) => name).join(', ')}`);
  out(`  RECAP_SECRET and EDITOR_TOKEN are new random values; keep the file private`);
  if (settings.previousSecrets.length > 0)
    out('  the replaced RECAP_SECRET is in RECAP_PREVIOUS_SECRETS: links already mailed keep working');
  out(`wrote ${dkimKeyFile} (mode 0600): RSA-2048 DKIM private key`);
  if (process.getuid?.() === 0)
    out(
      `  both belong to root: give them to the user the services run as, e.g. chown recap: ${envFile} ${dkimKeyFile}`,
    );
  if (!answers['database-url'])
    out('no DATABASE_URL: the embedded database in RECAP_DATA_DIR (./data), for one machine only');
  const trust = answers['trust-proxy'];
  if (trust && trust !== 'none')
    out(
      `TRUST_PROXY=${trust}: recap serve speaks plain HTTP, so a proxy terminates TLS in front of it; --trust-proxy none if readers reach it directly`,
    );
  out();
  out(
    dnsInstructions({
      fromEmail: answers['from-email'] ?? '',
      bounceDomain:
        (relay === 'own' ? answers['bounce-domain'] : undefined) ?? domainPart(answers['from-email']),
      relay,
      smtpHost: smtpHostOf(answers['smtp-url']),
      dkim: {
        domain: answers['dkim-domain'] ?? domainPart(answers['from-email']),
        selector: answers['dkim-selector'] ?? 'recap',
        publicKeyBase64: key.publicKeyBase64,
      },
      dmarcReportEmail: answers['dmarc-report'],
      bounceSmtpPort: settings.bounceSmtpPort,
    }),
  );
  out();
  out('Then `recap doctor` (where this .env is read: here, or `sudo recap doctor` on a server set up as in');
  out('docs/deploy.md) checks each record once published and prints the fix for any that fails (DNS changes');
  out('can take an hour to be seen).');
}

function domainPart(address: string | undefined): string {
  return (address?.split('@')[1] ?? 'localhost').toLowerCase();
}

/** Without a terminal: flags, then defaults; one line naming the first required value still missing. */
function takeFlags(given: InitAnswers): InitAnswers {
  const answers: InitAnswers = { ...given };
  for (const question of INIT_QUESTIONS) {
    if (answers[question.flag] !== undefined) continue;
    const fallback = defaultAnswer(question.flag, answers);
    if (fallback !== undefined) answers[question.flag] = fallback;
    else if (question.required)
      throw new UserError(
        `--${question.flag} is required without a terminal (${question.variable}: ${question.what})`,
      );
  }
  return answers;
}

/** On a terminal: each question not given as a flag, with its default in brackets; asked again until usable. */
async function askAll(given: InitAnswers): Promise<InitAnswers> {
  const terminal = createInterface({ input: process.stdin, output: process.stdout });
  // Lines read through the iterator are queued, so answers typed (or pasted) ahead are not lost.
  const lines = terminal[Symbol.asyncIterator]();
  const readAnswer = async (prompt: string) => {
    terminal.setPrompt(prompt);
    terminal.prompt();
    const next = await lines.next();
    if (next.done) throw new UserError('init stopped at the end of input: nothing written');
    return String(next.value);
  };
  try {
    const answers: InitAnswers = { ...given };
    for (const question of INIT_QUESTIONS) {
      if (answers[question.flag] !== undefined) continue;
      if (question.flag === 'bounce-domain' && answers.relay === 'esp') continue;
      if (question.flag === 'relay') explainRelay(answers);
      const value = await ask(readAnswer, question, defaultAnswer(question.flag, answers));
      if (value !== undefined) answers[question.flag] = value;
    }
    return answers;
  } finally {
    terminal.close();
  }
}

function explainRelay(answers: InitAnswers): void {
  const known = knownRelayOf(smtpHostOf(answers['smtp-url']));
  process.stdout.write(
    known
      ? `${known.name} is an email service: it rewrites the return path, and bounces come back by its webhook.\n`
      : 'Through your own mail server, bounces come back by mail to a bounce subdomain the server receives.\n',
  );
}

async function ask(
  readAnswer: (prompt: string) => Promise<string>,
  question: InitQuestion,
  fallback: string | undefined,
) {
  for (;;) {
    const optional =
      !question.required && fallback === undefined && !question.prompt.includes('(empty:')
        ? ' (empty: none)'
        : '';
    const answer = (
      await readAnswer(`${question.prompt}${optional}${fallback ? ` [${fallback}]` : ''}: `)
    ).trim();
    const value = answer || fallback;
    if (value === undefined) {
      if (!question.required) return undefined;
      process.stdout.write(`  ${question.variable} is required\n`);
      continue;
    }
    const problem = question.check(value);
    if (!problem) return value;
    process.stdout.write(`  ${problem}\n`);
  }
}
