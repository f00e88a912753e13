import type { Command } from 'commander';

/** `recap send`, `recap worker` */
export function registerDeliveryCommands(program: Command): void {
  void program;
}
