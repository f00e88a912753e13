import type { App } from '../app.ts';
import { createMailer } from '../delivery/create-mailer.ts';
import { sendIssue } from '../delivery/send-issue.ts';
import { buildIssue } from '../issues/build-issue.ts';
import type { ScheduleActions } from './schedule-cycle.ts';

/** The schedule's real work: build the week's issue with the selection, send it with the delivery workers. */
export function realScheduleActions(app: App, now: () => Date = () => new Date()): ScheduleActions {
  const { config, db } = app;
  return {
    async buildIssue(week) {
      const { content } = await buildIssue(db, {
        week,
        timeZone: config.timeZone,
        storiesPerSegment: config.selection.storiesPerSegment,
        minStoriesPerSegment: config.selection.minStoriesPerSegment,
        now: now(),
      });
      const filled = content.sections.filter((s) => !s.skipped);
      return `${filled.length} of ${content.sections.length} segments with stories`;
    },
    async sendIssue(week) {
      const mailer = createMailer(config);
      try {
        // A local-time rollout lasts about a day: the schedule's run carries it to the last zone.
        const summary = await sendIssue(app, week, { mailer, wait: true });
        if (summary.stoppedBecause) throw new Error(`the send stopped: ${summary.stoppedBecause}`);
        return `${summary.sent} sent, ${summary.failed} failed, ${summary.skipped} skipped`;
      } finally {
        await mailer.close();
      }
    },
  };
}
