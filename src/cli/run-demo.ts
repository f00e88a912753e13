import path from 'node:path';
import { parseIsoWeek, weekDateRange } from '../calendar/iso-week.ts';
import { sendIssue } from '../delivery/send-issue.ts';
import { demoStories, demoSubscribers } from '../demo/demo-content.ts';
import { simulateDemoEngagement } from '../demo/demo-engagement.ts';
import { demoSegments } from '../demo/demo-events.ts';
import { buildIssue, buildSettingsOf } from '../issues/build-issue.ts';
import { approveIssue } from '../issues/issue-lifecycle.ts';
import { ensureSegments, insertMissingStories } from '../stories/story.repository.ts';
import { upsertSubscribers } from '../subscribers/subscriber.repository.ts';
import type { App } from './app.ts';

/** A folder as the user would type it: relative when inside the working directory. */
function displayPath(folder: string): string {
  const relative = path.relative(process.cwd(), folder);
  return relative === '' ? '.' : relative.startsWith('..') ? folder : relative;
}

/**
 * Seeds the demo week and list, builds and approves the issue, sends it; prints what happened. Seeding
 * only adds what is missing: a run again leaves every story, reader (topics, unsubscribes) and editor's
 * choice as it was.
 */
export async function runDemo(
  app: App,
  options: { week: string; now: Date; simulateReaders?: boolean },
): Promise<string> {
  const { config, db } = app;
  const week = parseIsoWeek(options.week);
  if (!week) throw new Error(`not an ISO week: ${options.week}`);
  const stories = demoStories(week, config.timeZone);
  const seeded = await db.transaction().execute(async (trx) => {
    const newStories = await insertMissingStories(trx, stories);
    const segments = await ensureSegments(trx, demoSegments);
    const list = demoSubscribers(segments);
    const result = await upsertSubscribers(trx, list, 'demo', { insertOnly: true });
    return { subscribers: list.length, added: newStories + result.created };
  });
  const subscribers = seeded.subscribers;
  const seededNote =
    seeded.added === stories.length + subscribers
      ? ''
      : ` (${seeded.added} added; what was there is kept as it is)`;
  const build = await buildIssue(db, { ...buildSettingsOf(config), week: options.week, now: options.now });
  // Every demo week tells the same events: a second demo week finds most of them sent the week before and
  // leaves those segments empty. The demo shows that (the summary lists them) rather than stopping.
  await approveIssue(db, options.week, {
    now: options.now,
    timeZone: config.timeZone,
    allowEmpty: true,
    reason: 'demo week: its events repeat the previous demo week',
  });
  const summary = await sendIssue(app, options.week);
  // Only a fresh send gets simulated readers: a second run adds nothing.
  const engagement =
    summary.sent > 0 && options.simulateReaders !== false
      ? await simulateDemoEngagement(db, build.content.issueId)
      : null;

  const where =
    config.smtp.relays.length > 1
      ? `through ${config.smtp.relays.map((relay) => relay.name).join(', ')}`
      : config.smtp.url
        ? `through ${new URL(config.smtp.url).host}`
        : `to ${displayPath(config.outboxDir)}/`;
  const lines = [
    `Weekly AI Recap ${options.week} (${weekDateRange(week)}, ${config.timeZone})`,
    `  database    ${app.dbKind === 'pglite' ? `embedded PGlite in ${displayPath(config.dataDir)}/` : 'PostgreSQL from DATABASE_URL'}`,
    `  seeded      ${stories.length} stories, ${subscribers} subscribers${seededNote}`,
    '  segments',
    ...build.content.sections.map(
      (section) =>
        `    ${section.segment.name.padEnd(28)} ${section.skipped ? `skipped: ${section.skipReason}` : `${section.stories.length} ${section.stories.length === 1 ? 'story' : 'stories'}`}`,
    ),
    `  emails      ${summary.sent} sent ${where}${summary.failed ? `, ${summary.failed} failed` : ''}${summary.sent === 0 ? ' (everyone already has this issue)' : ''}`,
    ...(engagement
      ? [
          `  readers     ${engagement.opens} opens, ${engagement.clicks} clicks, ${engagement.votes} story votes and ${engagement.ratings} issue ratings simulated for the dashboard (demo only)`,
        ]
      : []),
  ];
  return lines.join('\n');
}
