import type { Db } from '../db/database.ts';
import { subjectRule } from '../delivery/drain-issue.ts';
import { type SendProgress, sendIssue } from '../delivery/send-issue.ts';
import type { SendSettings } from '../delivery/send-settings.ts';
import { decideDueSubjectTests } from '../delivery/subject-test.repository.ts';
import { buildIssue, buildSettingsOf } from '../issues/build-issue.ts';
import type { Mailer } from '../mail/mailer.ts';
import { formatSunsetResult, runSunsetFor, type SunsetConfig } from '../subscribers/sunset-settings.ts';
import type { ScheduleActions } from './schedule-cycle.ts';
import type { StoryPuller } from './story-pulls.ts';

/** What the schedule's work reads: the database, the selection's, the send's and sunsetting's settings, the mailer. */
export interface ScheduleDeps {
  db: Db;
  config: SendSettings &
    SunsetConfig & {
      selection: { storiesPerSegment: number; minStoriesPerSegment: number };
    };
  mailer: Mailer;
  /** Re-engagement mails and the send's alerts (SYSTEM_SMTP_URL); default `mailer`. */
  systemMailer?: Mailer;
}

/**
 * The schedule's real work: pull the story feeds, build the week's issue with the selection, send it with
 * the delivery workers.
 */
export function realScheduleActions(
  deps: ScheduleDeps,
  now: () => Date = () => new Date(),
  puller?: StoryPuller,
  /** Told the send's progress (the metrics' message counters). */
  onSendProgress?: (progress: SendProgress) => void,
): ScheduleActions {
  const { config, db } = deps;
  return {
    // Right before a build, wait for a pull another process may be running: the build then sees its stories.
    ...(puller ? { pullStories: () => puller.pullNow({ waitForLock: true }) } : {}),
    async buildIssue(week) {
      const { content } = await buildIssue(db, { ...buildSettingsOf(config), week, now: now() });
      const filled = content.sections.filter((s) => !s.skipped);
      return `${filled.length} of ${content.sections.length} segments with stories`;
    },
    async decideSubjectTests() {
      const lines: string[] = [];
      // Whoever decides sends the rest: a worker that decided is draining the issue already.
      for (const { issueId, decision } of await decideDueSubjectTests(db, subjectRule(config))) {
        lines.push(`subject test of issue ${issueId} decided: ${decision.reason}`);
        const issue = await db
          .selectFrom('issues')
          .select('week')
          .where('id', '=', issueId)
          .executeTakeFirst();
        if (!issue) continue;
        const summary = await sendIssue(deps, issue.week, {
          wait: true,
          ...(onSendProgress ? { onProgress: onSendProgress } : {}),
        }).catch((error: unknown) => ({
          failedWith: error instanceof Error ? error.message : String(error),
        }));
        lines.push(
          'failedWith' in summary
            ? `the rest of ${issue.week} did not go out: ${summary.failedWith}`
            : `the rest of ${issue.week} with variant ${decision.winner}: ${summary.sent} sent, ${summary.failed} failed, ${summary.skipped} skipped`,
        );
      }
      return lines;
    },
    async sendIssue(week) {
      // A local-time rollout lasts about a day: the schedule's run carries it to the last zone.
      const summary = await sendIssue(deps, week, {
        wait: true,
        ...(onSendProgress ? { onProgress: onSendProgress } : {}),
      });
      if (summary.stoppedBecause) throw new Error(`the send stopped: ${summary.stoppedBecause}`);
      const sent = `${summary.sent} sent, ${summary.failed} failed, ${summary.skipped} skipped`;
      if (config.sunset.afterIssues === 0) return sent;
      // After the send, so this week's delivery counts; a failure here never fails the week's send.
      const sunset = await runSunsetFor(deps, deps.systemMailer ?? deps.mailer, now()).then(
        formatSunsetResult,
        (error: unknown) => {
          return `sunsetting failed: ${error instanceof Error ? error.message : String(error)}`;
        },
      );
      return `${sent}; ${sunset}`;
    },
  };
}
