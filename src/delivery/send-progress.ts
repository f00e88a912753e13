import cliProgress from 'cli-progress';
import type { SendProgress, SendSummary } from './send-worker.ts';

export interface ProgressReporter {
  update(progress: SendProgress): void;
  stop(): void;
}

/**
 * On a terminal, a progress bar with rate and ETA; otherwise one JSON line per batch of `batchSize`
 * deliveries (at most one a second), for logs. Writes to stderr so stdout stays for results. With
 * `record` (a service's log), each of those records goes there instead, terminal or not.
 */
export function createProgressReporter(
  stream: NodeJS.WriteStream,
  batchSize: number,
  record?: (progress: Record<string, unknown>) => void,
): ProgressReporter {
  if (stream.isTTY && !record) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format:
          '{week} {bar} {percentage}% | {value}/{total} | {rate} msg/s | ETA {eta_formatted} | failed {failed} bounced {bounced}',
        etaBuffer: 200,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(p) {
        const payload = { week: p.week, rate: rate(p), failed: p.failed, bounced: p.bounced };
        if (!started) {
          bar.start(Math.max(p.total, p.processed), p.processed, payload);
          started = true;
        }
        bar.setTotal(Math.max(p.total, p.processed));
        bar.update(p.processed, payload);
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let lastBatch = -1;
  let lastAt = 0;
  return {
    update(p) {
      const batch = Math.floor(p.processed / batchSize);
      const now = Date.now();
      if (batch === lastBatch || now - lastAt < 1000) return;
      lastBatch = batch;
      lastAt = now;
      const progress = { event: 'send.progress', ...p, perSecond: rate(p) };
      if (record) record(progress);
      else stream.write(`${JSON.stringify(progress)}\n`);
    },
    stop() {},
  };
}

function rate(p: SendProgress): number {
  return p.elapsedMs > 0 ? Math.round(((p.sent + p.failed + p.bounced) / p.elapsedMs) * 1000) : 0;
}

/** "sent 45 · failed 0 · bounced 0 · skipped 0 · retried 3 · 2.3 s · 19.6 msg/s" */
export function formatSummary(summary: SendSummary): string {
  const parts = [
    `sent ${summary.sent}`,
    `failed ${summary.failed}`,
    `bounced ${summary.bounced}`,
    `skipped ${summary.skipped}`,
    `retried ${summary.retried}`,
    `${(summary.durationMs / 1000).toFixed(1)} s`,
    `${summary.perSecond} msg/s`,
  ];
  return parts.join(' · ');
}
