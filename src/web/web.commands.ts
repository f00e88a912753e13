import type { Command } from 'commander';

/** `recap serve` */
export function registerWebCommands(program: Command): void {
  void program;
}
