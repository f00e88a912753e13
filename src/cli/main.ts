import { Command, CommanderError } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { describeDatabaseError, isDatabaseUnavailable } from '../db/connection-errors.ts';
import { isUserFacingError, maskUserinfo } from '../errors.ts';
import { exitQuietlyOnClosedPipe, writeErr } from '../terminal-output.ts';
import { registerDeliveryCommands } from './delivery.commands.ts';
import { registerDemoCommand } from './demo.commands.ts';
import { registerDoctorCommand } from './doctor.commands.ts';
import { collectOldGarbageSooner } from './heap-tuning.ts';
import { registerImportCommands } from './import.commands.ts';
import { registerInitCommand } from './init.commands.ts';
import { registerIssueCommands } from './issue.commands.ts';
import { migrateCommand } from './migrate.commands.ts';
import { registerScheduleCommands } from './schedule.commands.ts';
import { registerSubscriberCommands } from './subscriber.commands.ts';
import { registerWebCommands } from './web.commands.ts';

export function buildProgram(): Command {
  const program = new Command('recap')
    .description("Weekly AI Recap: select, render and send the week's AI news digest")
    .version(packageJson.version, '-V, --version', 'print the version')
    .enablePositionalOptions()
    .exitOverride();
  program.addCommand(migrateCommand());
  registerImportCommands(program);
  registerIssueCommands(program);
  registerDeliveryCommands(program);
  registerSubscriberCommands(program);
  registerWebCommands(program);
  registerScheduleCommands(program);
  registerDemoCommand(program);
  registerInitCommand(program);
  registerDoctorCommand(program);
  for (const command of allCommands(program)) quietErrors(command);
  return program;
}

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

/**
 * A usage error is one line, with commander's "did you mean" folded in, and a pointer to the help
 * instead of the whole help: a typo should not scroll the mistake off the screen.
 */
function quietErrors(command: Command): void {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  command
    .showSuggestionAfterError(true)
    .showHelpAfterError(`(run '${names.join(' ')} --help' for usage)`)
    .configureOutput({
      writeErr: (text) => writeErr(text),
      outputError: (text, write) => write(formatUsageError(text)),
    });
}

/** "error: unknown command 'x'\n(Did you mean y?)\n" -> "recap: unknown command 'x' (did you mean y?)\n". Pure. */
export function formatUsageError(text: string): string {
  const [first = '', ...rest] = text.trimEnd().split('\n');
  const suggestion = rest.map((line) => line.trim().replace(/^\(Did you mean/, '(did you mean'));
  return `${[first.replace(/^error: /, 'recap: '), ...suggestion].filter(Boolean).join(' ')}\n`;
}

/** Entry point of the `recap` binary: one clear line and a non-zero exit for every expected failure. */
export async function main(argv: string[]): Promise<void> {
  collectOldGarbageSooner();
  exitQuietlyOnClosedPipe();
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    if (isUserFacingError(error)) {
      writeErr(`recap: ${maskUserinfo(error.message)}\n`);
    } else if (isDatabaseUnavailable(error)) {
      writeErr(`recap: the database does not answer: ${maskUserinfo(describeDatabaseError(error))}\n`);
    } else {
      // The stack is for whoever debugs recap (LOG_LEVEL=debug), not the operator's terminal or log.
      const { stackTracesWanted } = await import('../config.ts');
      const detail =
        error instanceof Error ? (stackTracesWanted() && error.stack) || error.message : String(error);
      writeErr(`recap: unexpected error: ${maskUserinfo(detail)}\n`);
    }
    process.exitCode = 1;
  }
}
