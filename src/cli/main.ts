import { Command, CommanderError } from 'commander';
import { describeDatabaseError, isDatabaseUnavailable } from '../db/connection-errors.ts';
import { isUserFacingError, maskUserinfo } from '../errors.ts';
import { exitQuietlyOnClosedPipe, writeErr } from '../terminal-output.ts';
import { registerDeliveryCommands } from './delivery.commands.ts';
import { registerDemoCommand } from './demo.commands.ts';
import { registerDoctorCommand } from './doctor.commands.ts';
import { collectOldGarbageSooner } from './heap-tuning.ts';
import { registerImportCommands } from './import.commands.ts';
import { registerIssueCommands } from './issue.commands.ts';
import { migrateCommand } from './migrate.commands.ts';
import { registerScheduleCommands } from './schedule.commands.ts';
import { registerSubscriberCommands } from './subscriber.commands.ts';
import { registerWebCommands } from './web.commands.ts';

export function buildProgram(): Command {
  const program = new Command('recap')
    .description("Weekly AI Recap: select, render and send the week's AI news digest")
    .showHelpAfterError()
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
  registerDoctorCommand(program);
  return program;
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
      writeErr(
        `recap: unexpected error: ${maskUserinfo(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`,
      );
    }
    process.exitCode = 1;
  }
}
