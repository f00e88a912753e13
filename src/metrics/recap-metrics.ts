import { Counter, Gauge, type Registry } from 'prom-client';
import type { InboundOutcome } from '../delivery/bounces/handle-inbound.ts';
import type { SendProgress } from '../delivery/send-worker.ts';
import type { CycleResult } from '../schedule/schedule-cycle.ts';
import type { PullOutcome } from '../schedule/story-pulls.ts';
import type { EventWriterStats } from '../tracking/event-writer.ts';

/**
 * What this process did, as Prometheus counters and gauges on a registry the CLI built: counters end in
 * `_total`, times are seconds, and no label grows without bound (no issue, week or address label).
 * Figures read from the database live in database-gauges.ts (served by `recap serve` only).
 */
export interface RecapMetrics {
  /** A worker's progress report (cumulative per issue): only what is new since its last report counts. */
  observeSendProgress(progress: SendProgress): void;
  /** What the bounce listener made of inbound messages. */
  observeInbound(outcomes: readonly InboundOutcome[]): void;
  observePull(outcome: PullOutcome): void;
  observeScheduleCycle(result: CycleResult, at: Date): void;
  /** Exports the tracking writer's counts, read on each scrape. */
  exportTracking(stats: () => EventWriterStats): void;
}

const SCHEDULE_OUTCOMES = [
  'no-slot',
  'not-ours',
  'running',
  'waiting-approval',
  'sent',
  'already-sent',
  'skipped-stale',
  'halted',
  'failed',
] as const;

// Long: one declaration per metric, each with its help text; nothing else happens here.
export function createRecapMetrics(registry: Registry): RecapMetrics {
  const registers = [registry];
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name, help, labelNames, registers });
  const sent = counter(
    'recap_messages_sent_total',
    'Messages the relay (or outbox) accepted, sent by this process',
  );
  const failed = counter('recap_messages_failed_total', 'Messages that failed for good, by this process');
  const bounced = counter(
    'recap_messages_bounced_total',
    'Messages refused permanently by the relay while this process sent them',
  );
  const skipped = counter(
    'recap_messages_skipped_total',
    'Deliveries skipped (reader left or suppressed) by this process',
  );
  const retried = counter(
    'recap_messages_retried_total',
    'Transient failures put back in the queue by this process',
  );
  const sendRate = new Gauge({
    name: 'recap_send_rate_messages_per_second',
    help: "This process's sending rate over its current send (0 when not sending)",
    registers,
  });
  const bounces = counter('recap_bounces_received_total', 'Bounces received by the bounce listener', [
    'type',
  ]);
  const complaints = counter(
    'recap_complaints_received_total',
    'Spam complaints received by the bounce listener',
  );
  const unsubscribes = counter(
    'recap_mail_unsubscribes_total',
    'Unsubscribes received by mail (List-Unsubscribe mailto)',
  );
  const ingestRuns = counter(
    'recap_ingest_runs_total',
    'Story feed pulls (one per feed per pull) by this process',
  );
  const ingestFailures = counter(
    'recap_ingest_failures_total',
    'Story feed pulls that failed or were refused',
  );
  const cycles = counter('recap_schedule_cycles_total', 'Schedule cycles run by this process, by outcome', [
    'outcome',
  ]);
  for (const outcome of SCHEDULE_OUTCOMES) cycles.labels(outcome).inc(0);
  const lastCycle = new Gauge({
    name: 'recap_schedule_last_cycle_timestamp_seconds',
    help: "Unix time of this process's last schedule cycle",
    registers,
  });

  // Per issue, the latest cumulative figures seen (a worker reports its running totals).
  const seen = new Map<number, SendProgress>();
  return {
    observeSendProgress(progress) {
      const before = seen.get(progress.issueId);
      const delta = (key: 'sent' | 'failed' | 'bounced' | 'skipped' | 'retried') =>
        Math.max(0, progress[key] - (before?.[key] ?? 0));
      sent.inc(delta('sent'));
      failed.inc(delta('failed'));
      bounced.inc(delta('bounced'));
      skipped.inc(delta('skipped'));
      retried.inc(delta('retried'));
      seen.set(progress.issueId, progress);
      const done = progress.sent + progress.failed + progress.bounced;
      sendRate.set(progress.elapsedMs > 0 ? (done / progress.elapsedMs) * 1000 : 0);
    },
    observeInbound(outcomes) {
      for (const outcome of outcomes) {
        if (outcome.kind === 'hard-bounce') bounces.labels('hard').inc();
        else if (outcome.kind === 'soft-bounce') bounces.labels('soft').inc();
        else if (outcome.kind === 'complaint') complaints.inc();
        else if (outcome.kind === 'unsubscribed') unsubscribes.inc();
      }
    },
    observePull(outcome) {
      ingestRuns.inc(outcome.sources);
      ingestFailures.inc(outcome.failed);
    },
    observeScheduleCycle(result, at) {
      cycles.labels(result.outcome).inc();
      lastCycle.set(at.getTime() / 1000);
    },
    exportTracking(stats) {
      const fromStats = (name: string, help: string, read: (s: EventWriterStats) => number) =>
        new Gauge({
          name,
          help,
          registers,
          collect() {
            this.set(read(stats()));
          },
        });
      // Counters read from the writer's own running totals at scrape time.
      const counted = (name: string, help: string, read: (s: EventWriterStats) => number) =>
        new Counter({
          name,
          help,
          registers,
          collect() {
            this.reset();
            this.inc(read(stats()));
          },
        });
      counted(
        'recap_tracking_events_accepted_total',
        'Opens and clicks answered and handed to the writer',
        (s) => s.accepted,
      );
      counted(
        'recap_tracking_events_spooled_total',
        'Events put in the spool while the database was away',
        (s) => s.spooled,
      );
      counted('recap_tracking_events_replayed_total', 'Events written from the spool', (s) => s.replayed);
      counted(
        'recap_tracking_events_not_kept_total',
        'Events answered but neither stored nor spooled',
        (s) => s.notKept,
      );
      fromStats('recap_tracking_events_queued', 'Events waiting in memory for their batch', (s) => s.queued);
      fromStats('recap_tracking_spool_bytes', "Bytes of events in this process's spool", (s) => s.spoolBytes);
    },
  };
}
