import { Gauge, type Registry } from 'prom-client';
import type { Db } from '../db/database.ts';
import { loadSendFigures, type SendFigures } from '../reports/send-figures.ts';
import { listFires } from '../schedule/run-coordinator.ts';
import { SCHEDULE_NAME } from '../schedule/schedule-runner.ts';

interface DatabaseFigures {
  send: SendFigures;
  lastFire: { firedAt: Date; outcome: string } | null;
}

export interface DatabaseGaugeOptions {
  /** A scrape waits this long for the database, then shows the figures as unavailable (default 2 s). */
  timeoutMs?: number;
}

const DELIVERY_STATUSES = ['queued', 'sent', 'failed', 'bounced', 'skipped', 'cancelled'] as const;
const FIRE_OUTCOMES = [
  'running',
  'waiting-approval',
  'sent',
  'already-sent',
  'skipped-stale',
  'halted',
  'failed',
];

/**
 * Figures read from the database on each scrape (exported by `recap serve` only, so several processes do
 * not report one queue several times): queue depth, the latest send's figures, the schedule's last fire.
 * A few rollup rows per scrape, one read shared by every gauge of the scrape, bounded by a timeout;
 * `recap_database_figures_up` says whether they could be read.
 */
export interface DatabaseGauges {
  /** Reads the figures once for the coming scrape (the listener calls it first); never throws. */
  refresh(): Promise<void>;
}

// Long: one declaration per gauge, each with its help text.
export function registerDatabaseGauges(
  registry: Registry,
  db: Db,
  options: DatabaseGaugeOptions = {},
): DatabaseGauges {
  const timeoutMs = options.timeoutMs ?? 2_000;
  // One read per scrape, made before it; every gauge's collect reads from it.
  let current: DatabaseFigures | null = null;
  const figures = () => current;
  const registers = [registry];
  const gauge = (
    name: string,
    help: string,
    set: (gauge: Gauge, figures: DatabaseFigures) => void,
    labelNames: string[] = [],
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      collect() {
        const read = figures();
        this.reset();
        if (read) set(this, read);
      },
    });
  // Set apart: it says 0 when the read failed, where the others stay empty.
  new Gauge({
    name: 'recap_database_figures_up',
    help: 'Whether the figures read from the database could be read in this scrape (1) or not (0)',
    registers,
    collect() {
      this.set(figures() ? 1 : 0);
    },
  });
  gauge('recap_send_queue_depth', 'Deliveries waiting to be sent, every issue together', (g, f) =>
    g.set(f.send.queued),
  );
  gauge(
    'recap_latest_send_messages',
    'Deliveries of the issue whose send started last, by status',
    (g, f) => {
      for (const status of DELIVERY_STATUSES) g.labels(status).set(f.send.latest?.deliveries[status] ?? 0);
    },
    ['status'],
  );
  gauge(
    'recap_latest_send_complaints',
    'Spam complaints attributed to the issue whose send started last',
    (g, f) => g.set(f.send.latest?.complaints ?? 0),
  );
  gauge(
    'recap_latest_send_unsubscribes',
    'Unsubscribes attributed to the issue whose send started last',
    (g, f) => g.set(f.send.latest?.unsubscribes ?? 0),
  );
  gauge('recap_latest_send_started_timestamp_seconds', 'Unix time the latest send started', (g, f) => {
    if (f.send.latest) g.set(f.send.latest.sendStartedAt.getTime() / 1000);
  });
  gauge('recap_schedule_last_fire_timestamp_seconds', "Unix time of the schedule's last fire", (g, f) => {
    if (f.lastFire) g.set(f.lastFire.firedAt.getTime() / 1000);
  });
  gauge(
    'recap_schedule_last_fire_outcome',
    "The schedule's last fire's outcome: 1 on its outcome, 0 on the others",
    (g, f) => {
      if (!f.lastFire) return;
      for (const outcome of FIRE_OUTCOMES) g.labels(outcome).set(f.lastFire.outcome === outcome ? 1 : 0);
    },
    ['outcome'],
  );
  let reading: Promise<void> | undefined;
  return {
    refresh() {
      // Scrapes at the same moment share one read.
      reading ??= readWithin(db, timeoutMs).then((read) => {
        current = read;
        reading = undefined;
      });
      return reading;
    },
  };
}

async function readWithin(db: Db, timeoutMs: number): Promise<DatabaseFigures | null> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
  });
  const read = (async (): Promise<DatabaseFigures> => {
    const send = await loadSendFigures(db);
    const [fire] = await listFires(db, SCHEDULE_NAME, 1);
    return { send, lastFire: fire ? { firedAt: fire.firedAt, outcome: fire.outcome ?? 'running' } : null };
  })().catch(() => null);
  try {
    return await Promise.race([read, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
