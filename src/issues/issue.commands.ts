import type { Command } from 'commander';

/** `recap issue build|pin|drop|boost|approve` */
export function registerIssueCommands(program: Command): void {
  void program;
}
