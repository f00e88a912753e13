import type { Db } from '../db/database.ts';
import type { MailerSettings } from '../delivery/create-mailer.ts';
import { createMailer } from '../delivery/create-mailer.ts';
import { sendIssue } from '../delivery/send-issue.ts';
import type { SendSettings } from '../delivery/send-settings.ts';
import { buildIssue } from '../issues/build-issue.ts';
import type { ScheduleActions } from './schedule-cycle.ts';

/** What the schedule's work reads: the database, the selection's settings and the send's. */
export interface ScheduleDeps {
  db: Db;
  config: SendSettings &
    MailerSettings & {
      selection: { storiesPerSegment: number; minStoriesPerSegment: number };
    };
}

/** The schedule's real work: build the week's issue with the selection, send it with the delivery workers. */
export function realScheduleActions(deps: ScheduleDeps, now: () => Date = () => new Date()): ScheduleActions {
  const { config, db } = deps;
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
        const summary = await sendIssue(deps, week, { mailer });
        if (summary.stoppedBecause) throw new Error(`the send stopped: ${summary.stoppedBecause}`);
        return `${summary.sent} sent, ${summary.failed} failed, ${summary.skipped} skipped`;
      } finally {
        await mailer.close();
      }
    },
  };
}
