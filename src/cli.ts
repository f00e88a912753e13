import { Command, CommanderError } from 'commander';
import { isUserFacingError } from './app.ts';
import { migrateCommand } from './db/migrate.commands.ts';
import { registerDeliveryCommands } from './delivery/delivery.commands.ts';
import { registerDemoCommand } from './demo/demo.commands.ts';
import { registerIssueCommands } from './issues/issue.commands.ts';
import { registerScheduleCommands } from './schedule/schedule.commands.ts';
import { registerImportCommands } from './stories/import.commands.ts';
import { registerSubscriberCommands } from './subscribers/subscriber.commands.ts';
import { registerWebCommands } from './web/web.commands.ts';

export function buildProgram(): Command {
  const program = new Command('recap')
    .description("Weekly AI Recap: select, render and send the week's AI news digest")
    .showHelpAfterError()
    .exitOverride();
  program.addCommand(migrateCommand());
  registerImportCommands(program);
  registerIssueCommands(program);
  registerDeliveryCommands(program);
  registerWebCommands(program);
  registerScheduleCommands(program);
  registerSubscriberCommands(program);
  registerDemoCommand(program);
  return program;
}

/** Entry point of the `recap` binary: one clear line and a non-zero exit for every expected failure. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    if (isUserFacingError(error)) {
      process.stderr.write(`recap: ${error.message}\n`);
    } else {
      process.stderr.write(
        `recap: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
    process.exitCode = 1;
  }
}
