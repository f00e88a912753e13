import type { Command } from 'commander';
import {
  DEFAULT_LEASE_SECONDS,
  deliveryCounts,
  relaySentCounts,
  rolloutByHour,
} from '../delivery/delivery.repository.ts';
import {
  cancelSend,
  loadSendingIssue,
  pauseSend,
  resumeSend,
  type SendingIssue,
} from '../delivery/send-control.ts';
import { loadSubjectTest, type SubjectTestState } from '../delivery/subject-test.repository.ts';
import { UserError } from '../errors.ts';
import { loadAudienceCounts } from '../issues/issue.repository.ts';
import { writeErr, writeOut } from '../terminal-output.ts';
import { type App, withApp, withSharedApp } from './app.ts';
import { parseMetricsPort, startProcessMetrics } from './process-metrics.ts';
import { createServiceLogger } from './service-logger.ts';
import { describeWeek, resolveWeek, WEEK_OPTION_HELP } from './week-option.ts';

interface WeekOptions {
  week?: string;
}

/** `recap send [--week W]`, `recap send pause|resume|cancel|status --week W`, `recap worker` */
// Long: the table of `recap send …` and `recap worker`; each action is short and reads best beside its options.
export function registerDeliveryCommands(program: Command): void {
  // `send` and its subcommands both take --week; commander hands it to `send` when it follows a subcommand.
  const weekOf = (options: WeekOptions) => options.week ?? (send.opts() as WeekOptions).week;
  const send = program
    .command('send')
    .description(
      "send a week's built issue: freeze its audience, then run a worker here until done (a second run sends nothing new)",
    )
    .option('--week <YYYY-Www>', WEEK_OPTION_HELP)
    // `recap send pause --week W`: the subcommand's own --week, not the parent's, must receive W.
    .enablePositionalOptions()
    .option(
      '--wait',
      'keep running until the last reader has their copy (RECAP_DELIVERY=local: the last time zone, about a day; a subject test: the winner, after SUBJECT_TEST_HOURS) instead of exiting once what is due went out',
    )
    .action((options: WeekOptions & { wait?: boolean }) =>
      withApp(
        async (app) => {
          const resolved = resolveWeek(options.week, app.config);
          const week = resolved.key;
          writeOut(`${describeWeek(resolved)}\n`);
          await app.openMailer(); // a bad DKIM key stops here, before the audience is frozen
          const { sendIssue } = await import('../delivery/send-issue.ts');
          const { createProgressReporter, formatSummary } = await import('../delivery/send-progress.ts');
          const reporter = createProgressReporter(process.stderr, app.config.send.batchSize);
          const { signal, dispose } = interruptSignal();
          try {
            const summary = await sendIssue(app, week, {
              onProgress: (p) => reporter.update(p),
              signal,
              wait: Boolean(options.wait),
              log: (line) => writeErr(`${line}\n`),
            });
            reporter.stop();
            const note =
              summary.sent + summary.failed + summary.bounced + summary.skipped === 0
                ? ' (nothing left to send)'
                : '';
            writeOut(`${week}: ${formatSummary(summary)}${note}\n`);
            if (summary.waiting?.subjectTest) {
              writeOut(
                `subject test under way: ${summary.waiting.count} deliveries wait for the winner, decided at ${summary.waiting.nextAt?.toISOString() ?? 'SUBJECT_TEST_HOURS after the start'}; the rest goes out then by "recap worker --follow" or the schedule ("recap send --week ${week} --wait" stays until the last)\n`,
              );
            } else if (summary.waiting) {
              writeOut(
                `${summary.waiting.count} deliveries wait for ${app.config.send.localTime} in their time zones${summary.waiting.nextAt ? ` (next due ${summary.waiting.nextAt.toISOString()})` : ''}: "recap worker --follow" or the schedule sends them as they come due ("recap send --week ${week} --wait" stays until the last)\n`,
              );
            } else if (summary.stoppedBecause) writeOut(`stopped: ${summary.stoppedBecause}\n`);
          } finally {
            reporter.stop();
            dispose();
          }
        },
        { mailsLinks: true },
      ),
    );

  send
    .command('pause')
    .description('pause a running send; workers stop before their next batch')
    .option('--week <YYYY-Www>', WEEK_OPTION_HELP)
    .option('--reason <text>', 'why, shown by status', 'paused by an operator')
    .action((options: WeekOptions & { reason: string }) =>
      withApp(async (app) => {
        const issue = await requireIssue(app, weekOf(options));
        if (!(await pauseSend(app.db, issue.id, options.reason)))
          throw new UserError(`${issue.week} is ${issue.status}, not sending`);
        writeOut(`${issue.week}: paused\n`);
      }),
    );

  send
    .command('resume')
    .description('resume a paused send (then run "recap worker" or "recap send" to work on it)')
    .option('--week <YYYY-Www>', WEEK_OPTION_HELP)
    .action((options: WeekOptions) =>
      withApp(async (app) => {
        const issue = await requireIssue(app, weekOf(options));
        if (!(await resumeSend(app.db, issue.id)))
          throw new UserError(`${issue.week} is ${issue.status}, not paused`);
        writeOut(
          `${issue.week}: sending again; run "recap worker --week ${issue.week}" or "recap send --week ${issue.week}"\n`,
        );
      }),
    );

  send
    .command('cancel')
    .description('cancel a send: queued deliveries are cancelled, messages already handed over finish')
    .option('--week <YYYY-Www>', WEEK_OPTION_HELP)
    .action((options: WeekOptions) =>
      withApp(async (app) => {
        const issue = await requireIssue(app, weekOf(options));
        const cancelled = await cancelSend(app.db, issue.id, 'cancelled by an operator');
        if (cancelled === null)
          throw new UserError(
            `${issue.week} is ${issue.status}: only a sending or paused send can be cancelled`,
          );
        writeOut(`${issue.week}: cancelled, ${cancelled} deliveries will not be sent\n`);
      }),
    );

  send
    .command('status')
    .description('counts of deliveries per state')
    .option('--week <YYYY-Www>', WEEK_OPTION_HELP)
    .option('--json', 'print JSON')
    .action((options: WeekOptions & { json?: boolean }) =>
      withApp(async (app) => {
        const issue = await requireIssue(app, weekOf(options));
        const counts = await deliveryCounts(app.db, issue.id);
        const audience = await loadAudienceCounts(app.db, issue.id);
        const hours = await rolloutByHour(app.db, issue.id);
        const relays = await relaySentCounts(app.db, issue.id);
        const subjectTest = await loadSubjectTest(app.db, issue.id);
        if (options.json) {
          const rollout = hours.filter((h) => h.hour !== null);
          const test = subjectTest
            ? {
                subjectTest: {
                  decideAt: subjectTest.decideAt,
                  decidedAt: subjectTest.decidedAt,
                  winner: subjectTest.winner,
                  reason: subjectTest.reason,
                  held: subjectTest.held,
                  variants: subjectTest.figures,
                },
              }
            : {};
          writeOut(
            `${JSON.stringify({ week: issue.week, status: issue.status, reason: issue.statusReason, audience, deliveries: counts, ...(rollout.length > 0 ? { rollout } : {}), ...(relays.length > 0 ? { relays } : {}), ...test }, null, 2)}\n`,
          );
          return;
        }
        const failedBy = Object.entries(counts.failedBy)
          .map(([kind, n]) => `${kind} ${n}`)
          .join(', ');
        const lines = [
          `${issue.week}: ${issue.status}${issue.statusReason ? ` (${issue.statusReason})` : ''}`,
          ...(audience
            ? [
                `  audience   ${audience.eligible} eligible, ${audience.suppressed} suppressed, ${audience.unsubscribed} unsubscribed, ${audience.pending} pending`,
              ]
            : []),
          `  queued     ${counts.queued}${counts.retrying ? ` (${counts.retrying} waiting to retry)` : ''}`,
          `  waiting    ${counts.waiting} (local delivery time, or a subject test's decision, not reached yet)`,
          `  due        ${counts.due}`,
          `  sent       ${counts.sent}`,
          `  failed     ${counts.failed}${failedBy ? ` (${failedBy})` : ''}`,
          `  bounced    ${counts.bounced}`,
          `  skipped    ${counts.skipped}`,
          `  cancelled  ${counts.cancelled}`,
        ];
        if (subjectTest) lines.push(...subjectTestLines(subjectTest));
        if (relays.length > 0) {
          lines.push('  sent per relay');
          for (const r of relays) lines.push(`    ${r.relay}  ${r.sent}`);
        }
        if (hours.some((h) => h.hour !== null)) {
          lines.push('  rollout by hour (UTC): sent / due then');
          for (const h of hours)
            lines.push(
              `    ${h.hour ? h.hour.toISOString().slice(0, 13).replace('T', ' ') : 'at once      '}  ${h.sent} / ${h.sent + h.queued + h.other}`,
            );
        }
        writeOut(`${lines.join('\n')}\n`);
      }),
    );

  program
    .command('worker')
    .description(
      'run a sending worker; any number of them, anywhere, share the database; exits when nothing is left',
    )
    .option('--week <YYYY-Www>', 'only this week (default: every issue being sent, oldest first)')
    .option('--follow', 'keep waiting for new sends instead of exiting')
    .option(
      '--lease-seconds <n>',
      'how long a claimed batch stays reserved without a heartbeat (renewed every third of it)',
      String(DEFAULT_LEASE_SECONDS),
    )
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics at http://METRICS_HOST:PORT/metrics (default: none)',
      parseMetricsPort,
    )
    .action((options: WeekOptions & { follow?: boolean; leaseSeconds: string; metricsPort?: number }) =>
      (options.follow ? withSharedApp : withApp)(
        async (app) => {
          const leaseSeconds = Number(options.leaseSeconds);
          if (!Number.isFinite(leaseSeconds) || leaseSeconds < 1)
            throw new UserError('--lease-seconds: expected a number of seconds ≥ 1');
          const issue = options.week ? await requireIssue(app, options.week) : undefined;
          const { newWorkerId } = await import('../delivery/send-issue.ts');
          const { createProgressReporter, formatSummary } = await import('../delivery/send-progress.ts');
          const mailer = await app.openMailer();
          // Following, the worker is a service: its progress and results are log records, not a bar.
          const logger = options.follow
            ? createServiceLogger(app.config.log).child({ component: 'worker' })
            : undefined;
          const reporter = createProgressReporter(
            process.stderr,
            app.config.send.batchSize,
            logger && ((progress) => logger.info(progress, 'send progress')),
          );
          const say = (line: string) => (logger ? logger.info(line) : writeOut(`${line}\n`));
          const metrics = await startProcessMetrics({
            host: app.config.metrics.host,
            port: options.metricsPort,
          });
          if (metrics) say(`metrics on http://${metrics.boundTo}/metrics`);
          const { signal, dispose } = interruptSignal();
          try {
            const { runWorkerThroughOutages } = await import('../delivery/worker-through-outages.ts');
            const { startHeartbeat } = await import('../delivery/worker-heartbeat.repository.ts');
            const workerId = newWorkerId();
            // The editor shows the workers alive; serve starts its own only when none is.
            const heartbeat = startHeartbeat(app.db, {
              workerId,
              kind: 'worker',
              issueId: issue?.id ?? null,
            });
            const summary = await runWorkerThroughOutages(
              {
                db: app.db,
                mailer,
                systemMailer: app.systemMailer,
                config: app.config,
                workerId,
                ...(issue ? { issueId: issue.id } : {}),
                follow: Boolean(options.follow),
                leaseSeconds,
                signal,
                onProgress: (p) => {
                  reporter.update(p);
                  metrics?.observeSendProgress(p);
                },
                log: (line) => (logger ? logger.warn(line) : writeErr(`${line}\n`)),
              },
              (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
            ).finally(() => heartbeat.stop());
            reporter.stop();
            if (summary.fatal) throw new UserError(`send stopped: ${summary.fatal}`);
            say(`worker ${summary.weeks.join(', ') || '(no issue being sent)'}: ${formatSummary(summary)}`);
            if (summary.stoppedBecause) say(`stopped: ${summary.stoppedBecause}`);
          } finally {
            reporter.stop();
            dispose();
            await metrics?.close();
          }
        },
        { mailsLinks: true },
      ),
    );
}

async function requireIssue(app: App, week: string | undefined): Promise<SendingIssue> {
  const resolved = resolveWeek(week, app.config).key;
  const issue = await loadSendingIssue(app.db, { week: resolved });
  if (!issue) throw new UserError(`no issue for ${resolved}`);
  return issue;
}

/** Ctrl-C or SIGTERM stops gracefully (messages in flight are recorded); a second one exits at once. */
function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    writeErr('\nstopping after the messages in flight (again to quit now)\n');
    controller.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** The subject test part of `recap send status`: each group's figures, then the decision or when it comes. */
function subjectTestLines(test: SubjectTestState): string[] {
  const percent = (count: number, of: number) => (of > 0 ? `${((count / of) * 100).toFixed(1)} %` : '–');
  const lines = [
    test.decidedAt
      ? `  subject test: ${test.winner ? `variant ${test.winner} won` : 'decided'}${test.reason ? ` (${test.reason})` : ''}`
      : `  subject test: decided at ${test.decideAt.toISOString().slice(0, 16).replace('T', ' ')} UTC; ${test.held} readers held for the winner`,
  ];
  for (const figures of test.figures)
    lines.push(
      `    ${figures.variant}  ${figures.delivered} delivered, ${figures.humanClickers} human clickers (${percent(figures.humanClickers, figures.delivered)})`,
    );
  return lines;
}
