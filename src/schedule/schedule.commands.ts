import type { Command } from 'commander';

/** `recap schedule`, `recap stats` */
export function registerScheduleCommands(program: Command): void {
  void program;
}
