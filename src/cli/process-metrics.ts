import type { Db } from '../db/database.ts';
import { UserError } from '../errors.ts';
import type { RecapMetrics } from '../metrics/recap-metrics.ts';

export interface ProcessMetrics extends RecapMetrics {
  /** `host:port` of the metrics listener. */
  boundTo: string;
  close(): Promise<void>;
}

/**
 * This process's Prometheus registry (prom-client's default process and Node.js metrics, event loop lag
 * included, plus recap's) served at `http://host:port/metrics`; undefined when no port is set, so a
 * zero set-up start opens nothing more. `databaseFigures` (recap serve only) adds the figures read
 * from the database on each scrape.
 */
export async function startProcessMetrics(options: {
  host: string;
  port: number | undefined;
  databaseFigures?: Db;
}): Promise<ProcessMetrics | undefined> {
  if (options.port === undefined) return undefined;
  const { Registry, collectDefaultMetrics } = await import('prom-client');
  const { createRecapMetrics } = await import('../metrics/recap-metrics.ts');
  const { startMetricsListener } = await import('../metrics/metrics-listener.ts');
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = createRecapMetrics(registry);
  const gauges = options.databaseFigures
    ? (await import('../metrics/database-gauges.ts')).registerDatabaseGauges(
        registry,
        options.databaseFigures,
      )
    : undefined;
  const listener = await startMetricsListener(registry, {
    host: options.host,
    port: options.port,
    ...(gauges ? { beforeScrape: () => gauges.refresh() } : {}),
  }).catch((error: NodeJS.ErrnoException) => {
    throw new UserError(
      `cannot serve metrics on ${options.host}:${options.port}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : error.message}`,
    );
  });
  return { ...metrics, boundTo: listener.boundTo, close: () => listener.close() };
}

/** `--metrics-port` of `recap schedule` and `recap worker`. */
export function parseMetricsPort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535)
    throw new UserError(`--metrics-port: expected a port number (0-65535), got "${value}"`);
  return port;
}
