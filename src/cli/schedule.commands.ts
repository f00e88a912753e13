import { type Command, Option } from 'commander';
import type { InboundOutcome } from '../delivery/bounces/handle-inbound.ts';
import { UserError } from '../errors.ts';
import type { CycleResult } from '../schedule/schedule-cycle.ts';
import { DEFAULT_CATCH_UP_HOURS } from '../schedule/schedule-week.ts';
import { writeOut } from '../terminal-output.ts';
import { type App, withApp, withSharedApp } from './app.ts';
import { parseMetricsPort, startProcessMetrics } from './process-metrics.ts';
import { createServiceLogger } from './service-logger.ts';
import { resolveWeek } from './week-option.ts';

/** `recap schedule [--once] [--force]`, `recap stats --week W [--json]` */
// Long: `recap schedule` wires the cycle, the pulls and the upkeep in order, next to `recap stats`.
export function registerScheduleCommands(program: Command): void {
  program
    .command('schedule')
    .description('send every week at RECAP_CRON in RECAP_TZ, exactly once across processes (keeps running)')
    .option('--once', 'run a single cycle and exit (for system cron); exit code 1 when the cycle failed')
    .option('--force', 'send a slot even when it is older than the catch-up window, or retry a failed one')
    .addOption(
      // For rehearsing a schedule (and for tests): run the cycle as if the clock showed this instant.
      new Option('--now <instant>', 'pretend the current time is this ISO 8601 instant')
        .hideHelp()
        .argParser((value) => {
          const instant = new Date(value);
          if (Number.isNaN(instant.getTime()))
            throw new UserError(`--now: expected an ISO 8601 instant, got "${value}"`);
          return instant;
        }),
    )
    .addOption(
      new Option('--catch-up-hours <hours>', 'how late a missed fire is still caught up')
        .default(DEFAULT_CATCH_UP_HOURS)
        .argParser((value) => {
          const hours = Number(value);
          if (!Number.isFinite(hours) || hours < 0)
            throw new UserError(`--catch-up-hours: expected a number of hours, got "${value}"`);
          return hours;
        }),
    )
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics at http://METRICS_HOST:PORT/metrics (default: none)',
      parseMetricsPort,
    )
    .action(
      (options: {
        once?: boolean;
        force?: boolean;
        catchUpHours: number;
        now?: Date;
        metricsPort?: number;
      }) =>
        (options.once ? withApp : withSharedApp)(
          async (app) => {
            const serviceLogger = createServiceLogger(app.config.log);
            const logger = serviceLogger.child({ component: 'schedule' });
            const log = (line: string) => logger.info(line);
            const { cronPattern } = await import('../schedule/schedule-slot.ts');
            const { LEASE_MS, LOOKBACK_MS, SCHEDULE_NAME, scheduleOwner, startSchedule } = await import(
              '../schedule/schedule-runner.ts'
            );
            const { realScheduleActions } = await import('../schedule/schedule-actions.ts');
            const { runScheduleCycle } = await import('../schedule/schedule-cycle.ts');
            const { createStoryPuller, startStoryPulls } = await import('../schedule/story-pulls.ts');
            const { startAnalyticsMaintenance } = await import('../reports/analytics-maintenance.ts');
            let pattern: ReturnType<typeof cronPattern>;
            try {
              pattern = cronPattern(app.config.cron, app.config.timeZone);
            } catch {
              throw new UserError(
                `RECAP_CRON: "${app.config.cron}" is not a valid cron expression (e.g. "0 8 * * 1")`,
              );
            }
            const ingestCron = app.config.ingest.cron;
            if (app.config.ingest.urls.length > 0) {
              try {
                cronPattern(ingestCron, app.config.timeZone);
              } catch {
                throw new UserError(
                  `RECAP_INGEST_CRON: "${ingestCron}" is not a valid cron expression (e.g. "*/15 * * * *")`,
                );
              }
            }
            await app.openMailer(); // a bad DKIM key stops the start, not the week's send
            const metrics = await startProcessMetrics({
              host: app.config.metrics.host,
              port: options.metricsPort,
            });
            if (metrics) log(`metrics on http://${metrics.boundTo}/metrics`);
            const puller = createStoryPuller(
              app,
              log,
              metrics && ((outcome) => metrics.observePull(outcome)),
            );
            const offset = options.now ? options.now.getTime() - Date.now() : 0;
            const now = () => new Date(Date.now() + offset);
            const cycleOptions = {
              db: app.db,
              scheduleName: SCHEDULE_NAME,
              pattern,
              owner: scheduleOwner(),
              now,
              requireApproval: app.config.requireApproval,
              actions: realScheduleActions(
                app,
                now,
                puller,
                metrics && ((progress) => metrics.observeSendProgress(progress)),
              ),
              log,
              catchUpWindowMs: options.catchUpHours * 3_600_000,
              lookbackMs: LOOKBACK_MS,
              leaseMs: LEASE_MS,
              ...(metrics
                ? { onCycle: (result: CycleResult) => metrics.observeScheduleCycle(result, now()) }
                : {}),
              delivery: app.config.send.delivery,
              force: options.force ?? false,
              alerts: { db: app.db, config: app.config, mailer: app.systemMailer, log, now },
            };
            // Event partitions ahead and retention: the schedule keeps them up even where no server runs.
            const maintenance = startAnalyticsMaintenance(app.db, {
              retentionDays: app.config.trackingRetentionDays,
              now,
              log,
            });
            await maintenance.first;
            const { startBounceMailbox } = await import('./bounce-mailbox.ts');
            const observeInbound =
              metrics && ((outcomes: InboundOutcome[]) => metrics.observeInbound(outcomes));
            if (options.once) {
              await maintenance.stop();
              const result = await runScheduleCycle(cycleOptions);
              metrics?.observeScheduleCycle(result, now());
              // One poll of the bounce mailbox per run: a failed poll is logged, not the cycle's failure.
              const mailbox = await startBounceMailbox(app, serviceLogger, observeInbound);
              await mailbox?.first;
              await mailbox?.stop();
              await metrics?.close();
              if (result.outcome === 'not-ours' || result.outcome === 'no-slot') log(result.detail);
              if (result.outcome === 'failed') process.exitCode = 1;
              return;
            }
            const running = startSchedule(cycleOptions);
            const pulls =
              app.config.ingest.urls.length > 0
                ? startStoryPulls({ expression: ingestCron, timeZone: app.config.timeZone, puller, log })
                : undefined;
            const mailbox = await startBounceMailbox(app, serviceLogger, observeInbound);
            await new Promise<void>((resolve) => {
              const stop = () => {
                log('stopping');
                Promise.all([running.stop(), pulls?.stop(), mailbox?.stop()]).then(() => resolve(), resolve);
              };
              process.once('SIGINT', stop);
              process.once('SIGTERM', stop);
            });
            await maintenance.stop();
            await metrics?.close();
          },
          { mailsLinks: true },
        ),
    );

  program
    .command('stats')
    .description(
      "print a sent issue's numbers: deliveries, opens, clicks, unsubscribes, per segment and link",
    )
    .requiredOption('--week <week>', 'ISO week, e.g. 2026-W47')
    .option('--json', 'print JSON instead of a table')
    .action((options: { week: string; json?: boolean }) =>
      withApp(async (app) => {
        resolveWeek(options.week, app.config);
        const { loadIssueStats } = await import('../reports/issue-stats.ts');
        const { formatIssueStats, formatSunsetWeeks } = await import('../reports/format-stats.ts');
        const { countSunsetReaders, loadSunsetByWeek } = await import('../subscribers/sunset.ts');
        const stats = await loadIssueStats(app.db, options.week);
        if (!stats)
          throw new UserError(
            `no issue for ${options.week} (build it with \`recap issue build --week ${options.week}\`)`,
          );
        const sunset = { pausedNow: await countSunsetReaders(app.db), weeks: await loadSunsetByWeek(app.db) };
        const { formatSubjectTest, loadSubjectTestReport } = await import(
          '../reports/subject-test-report.ts'
        );
        const subjectTest = await loadSubjectTestReport(app.db, { id: stats.issueId, week: stats.week });
        const { formatPersonalOrder, loadPersonalOrderReport } = await import(
          '../reports/personal-order-report.ts'
        );
        const personalOrder = await loadPersonalOrderReport(app.db, stats.issueId);
        const { loadIssueFeedback } = await import('../feedback/feedback.repository.ts');
        const { formatIssueFeedback } = await import('../reports/feedback-report.ts');
        const feedback = await loadIssueFeedback(app.db, stats.issueId);
        const names = await segmentNames(app);
        const setName = (key: string) =>
          key
            .split('+')
            .map((slug) => names.get(slug) ?? slug)
            .join(' + ');
        writeOut(
          options.json
            ? `${JSON.stringify({ ...stats, subjectTest, personalOrder, feedback, sunset }, null, 2)}\n`
            : formatIssueStats(stats, names) +
                (subjectTest ? formatSubjectTest(subjectTest) : '') +
                (personalOrder ? formatPersonalOrder(personalOrder) : '') +
                formatIssueFeedback(feedback, setName) +
                formatSunsetWeeks(sunset.weeks, sunset.pausedNow),
        );
      }),
    );
}

/** Segment names by slug: the report names segment sets as editors wrote them. */
async function segmentNames(app: App): Promise<Map<string, string>> {
  const { listSegments } = await import('../stories/story.repository.ts');
  return new Map((await listSegments(app.db)).map((segment) => [segment.slug, segment.name]));
}
