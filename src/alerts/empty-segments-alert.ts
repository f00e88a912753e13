import { findIssueState } from '../issues/issue.repository.ts';
import { emptySegmentsOf } from '../issues/issue-lifecycle.ts';
import { type AlertContext, alertsEnabled, raiseAlert } from './raise-alert.ts';

/**
 * When the schedule is about to send a draft nobody approved (REQUIRE_APPROVAL off) that has segments
 * without stories, says so once per issue: their readers get no section of their own this week. An
 * approved issue's empty segments were accepted by an editor (`--allow-empty`) and raise nothing.
 * Never throws; returns whether this call sent the alert.
 */
export async function alertIfSendingEmptySegments(context: AlertContext, week: string): Promise<boolean> {
  if (!alertsEnabled(context.config)) return false;
  try {
    const issue = await findIssueState(context.db, week);
    if (issue?.status !== 'draft') return false;
    const empty = await emptySegmentsOf(context.db, issue.id);
    if (empty.length === 0) return false;
    return await raiseAlert(context, {
      kind: 'empty-segments',
      cause: week,
      subject: `Issue ${week} goes out unapproved with ${empty.length} empty ${empty.length === 1 ? 'segment' : 'segments'}`,
      lines: [
        `No stories for: ${empty.join(', ')}. Their readers get only the other segments' stories, or nothing.`,
        'REQUIRE_APPROVAL is off, so the schedule sends the draft as built.',
        'Turn REQUIRE_APPROVAL on to have an editor approve each issue (empty segments then need --allow-empty).',
      ],
      details: { week, emptySegments: empty },
    });
  } catch (error) {
    const log = context.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    log(`alert empty-segments not sent: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
}
