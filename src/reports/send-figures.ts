import { sql } from 'kysely';
import type { Db, DeliveryStatus } from '../db/database.ts';

/** The sending figures a monitor polls, each read from a few rollup rows (never from deliveries). */
export interface SendFigures {
  /** Deliveries waiting to be sent, every issue together. */
  queued: number;
  /** The issue whose send started last, or null before the first send. */
  latest: {
    sendStartedAt: Date;
    deliveries: Record<DeliveryStatus, number>;
    complaints: number;
    unsubscribes: number;
  } | null;
}

const STATUSES: DeliveryStatus[] = ['queued', 'sent', 'failed', 'bounced', 'skipped', 'cancelled'];

/** Cheap at any size: rollups hold a few rows per issue (see docs/architecture.md, Analytics). */
export async function loadSendFigures(db: Db): Promise<SendFigures> {
  const queuedRows = await sql<{ queued: string | null }>`
    SELECT sum(deliveries) AS queued FROM issue_delivery_rollups WHERE status = 'queued'`.execute(db);
  const queued = Number(queuedRows.rows[0]?.queued ?? 0);
  const latestIssue = await sql<{ id: number; send_started_at: Date }>`
    SELECT id, send_started_at FROM issues WHERE send_started_at IS NOT NULL
    ORDER BY send_started_at DESC LIMIT 1`.execute(db);
  const issue = latestIssue.rows[0];
  if (!issue) return { queued, latest: null };
  const [byStatus, optOuts] = await Promise.all([
    sql<{ status: DeliveryStatus; n: string }>`
      SELECT status, sum(deliveries) AS n FROM issue_delivery_rollups WHERE issue_id = ${issue.id}
      GROUP BY status`.execute(db),
    sql<{ complaints: string; unsubscribes: string }>`
      SELECT count(*) FILTER (WHERE complained) AS complaints, count(*) FILTER (WHERE unsubscribed) AS unsubscribes
      FROM issue_opt_outs WHERE issue_id = ${issue.id}`.execute(db),
  ]);
  const deliveries = Object.fromEntries(STATUSES.map((status) => [status, 0])) as Record<
    DeliveryStatus,
    number
  >;
  for (const row of byStatus.rows) deliveries[row.status] = Number(row.n);
  return {
    queued,
    latest: {
      sendStartedAt: new Date(issue.send_started_at),
      deliveries,
      complaints: Number(optOuts.rows[0]?.complaints ?? 0),
      unsubscribes: Number(optOuts.rows[0]?.unsubscribes ?? 0),
    },
  };
}
