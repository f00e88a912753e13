import type { IssueStatus } from '../db/database.ts';

/** What a fire row's outcome means for the next check: final, or to be taken up again. */
export type FireOutcome =
  | 'running'
  | 'waiting-approval'
  | 'sent'
  | 'already-sent'
  | 'skipped-stale'
  | 'halted'
  | 'failed';

export interface FireState {
  owner: string;
  outcome: string | null;
  updatedAt: Date;
}

export type SlotDecision = { kind: 'due'; reason: string } | { kind: 'stale'; reason: string };

/**
 * Whether a slot nobody has claimed yet should run now. A slot noticed within the catch-up window runs
 * (the machine was down at 08:00 and came back at 10:00); an older one is reported and skipped unless forced,
 * so a process started days late never sends last week's issue without saying so.
 */
export function decideSlot(input: {
  slot: Date;
  now: Date;
  catchUpWindowMs: number;
  force: boolean;
}): SlotDecision {
  const lateMs = input.now.getTime() - input.slot.getTime();
  const late = formatDuration(lateMs);
  if (lateMs <= 60_000) return { kind: 'due', reason: 'on time' };
  if (lateMs <= input.catchUpWindowMs) {
    return {
      kind: 'due',
      reason: `missed by ${late}, within the catch-up window of ${formatDuration(input.catchUpWindowMs)}: catching up once`,
    };
  }
  if (input.force) return { kind: 'due', reason: `missed by ${late}, sent anyway because --force was given` };
  return {
    kind: 'stale',
    reason: `missed by ${late}, more than the catch-up window of ${formatDuration(input.catchUpWindowMs)}: not sending a stale issue (run \`recap schedule --once --force\` to send it anyway)`,
  };
}

/**
 * Whether a process may take over a slot another run already recorded: a slot waiting for approval is
 * checked again, a run whose heartbeat stopped (crashed) is resumed, and --force re-runs anything not live.
 */
export function canTakeOver(
  fire: FireState,
  input: { now: Date; leaseMs: number; force: boolean; owner?: string },
): boolean {
  // This process's own run, left running by a cycle that failed for lack of a database: cycles of one
  // process never overlap, so nothing carries it now and its lease need not run out first.
  const ours = input.owner !== undefined && fire.owner === input.owner;
  const live =
    !ours && fire.outcome === 'running' && input.now.getTime() - fire.updatedAt.getTime() < input.leaseMs;
  if (live) return false;
  if (fire.outcome === 'waiting-approval' || fire.outcome === 'running') return true;
  return input.force;
}

export type IssueAction =
  | { kind: 'build' }
  | { kind: 'wait-approval'; reason: string }
  | { kind: 'send'; reason: string }
  | { kind: 'done'; outcome: 'already-sent' | 'halted'; reason: string };

/** What to do with the week's issue given its state; `null` means it was never built. */
export function decideIssueAction(input: {
  status: IssueStatus | null;
  requireApproval: boolean;
}): IssueAction {
  switch (input.status) {
    case null:
      return { kind: 'build' };
    case 'draft':
      return input.requireApproval
        ? {
            kind: 'wait-approval',
            reason:
              'REQUIRE_APPROVAL is on and the issue is still a draft: waiting for an editor to approve it',
          }
        : { kind: 'send', reason: 'REQUIRE_APPROVAL is off: sending the draft as built' };
    case 'approved':
    case 'scheduled':
      return { kind: 'send', reason: `the issue is ${input.status}` };
    case 'sending':
      return {
        kind: 'send',
        reason: 'a send was interrupted: resuming it (recipients already sent are not sent again)',
      };
    case 'sent':
      return { kind: 'done', outcome: 'already-sent', reason: 'the issue was already sent' };
    case 'paused':
    case 'cancelled':
      return {
        kind: 'done',
        outcome: 'halted',
        reason: `the issue is ${input.status} by an operator: not sending`,
      };
  }
}

export function formatDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
  return `${Math.floor(hours / 24)} days ${hours % 24} h`;
}
