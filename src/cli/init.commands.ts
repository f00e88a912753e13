import type { Command } from 'commander';
import { UserError } from '../errors.ts';
import { INIT_QUESTIONS, type InitAnswers } from '../setup/init-questions.ts';

interface InitOptions {
  nonInteractive?: boolean;
  force?: boolean;
  dir?: string;
  dkimKeyFile?: string;
  bounceSmtpPort?: string;
  [flag: string]: string | boolean | undefined;
}

/** `recap init`: writes `.env` and a DKIM key for going live, and prints the DNS records to publish. */
export function registerInitCommand(program: Command): void {
  const command = program
    .command('init')
    .description(
      'write a production .env (new RECAP_SECRET and EDITOR_TOKEN) and a DKIM key, and print the DNS records to publish; asks on a terminal, else takes flags',
    )
    .option('--non-interactive', 'ask nothing: take the flags, fail on a missing required one')
    .option('--force', 'replace an existing .env and DKIM key (the old RECAP_SECRET is kept as previous)')
    .option('--dir <folder>', 'where .env is written (default: the current folder)')
    .option(
      '--dkim-key-file <file>',
      'where the DKIM private key is written (default: <dir>/dkim/<selector>.pem)',
    )
    .option(
      '--bounce-smtp-port <port>',
      'own MTA: port of the bounce listener it forwards to (default 2525)',
    );
  for (const question of INIT_QUESTIONS) {
    command.option(`--${question.flag} <value>`, `${question.variable}: ${question.prompt}`);
  }
  command.action(async (options: InitOptions) => {
    const { runInit } = await import('./run-init.ts');
    const given: InitAnswers = {};
    for (const question of INIT_QUESTIONS) {
      const value = options[camelCase(question.flag)];
      if (typeof value !== 'string') continue;
      const problem = question.check(value.trim());
      if (problem) throw new UserError(`--${question.flag}: ${problem} (got ${JSON.stringify(value)})`);
      given[question.flag] = value.trim();
    }
    const port = options.bounceSmtpPort === undefined ? undefined : Number(options.bounceSmtpPort);
    if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536))
      throw new UserError(
        `--bounce-smtp-port: expected a port number (got ${JSON.stringify(options.bounceSmtpPort)})`,
      );
    await runInit({
      given,
      interactive: !options.nonInteractive && Boolean(process.stdin.isTTY && process.stdout.isTTY),
      force: Boolean(options.force),
      dir: options.dir ?? process.cwd(),
      dkimKeyFile: options.dkimKeyFile,
      bounceSmtpPort: port,
    });
  });
}

function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}
