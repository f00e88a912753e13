import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

/**
 * Folds the per-session rows of issue_delivery_rollups (kept by triggers on deliveries, one row per
 * writing session so send workers never wait on each other) into one row per key (backend 0). Safe
 * while sends run: a row a session is updating is folded after that session commits. Returns rows folded.
 */
export async function compactDeliveryRollups(db: Db): Promise<number> {
  const { rows } = await sql<{ folded: string }>`
    WITH gone AS (
      DELETE FROM issue_delivery_rollups WHERE backend <> 0
      RETURNING issue_id, segment_key, status, tracked, deliveries
    ), folded AS (
      INSERT INTO issue_delivery_rollups AS r (issue_id, segment_key, status, tracked, backend, deliveries)
      SELECT issue_id, segment_key, status, tracked, 0, sum(deliveries) FROM gone
      GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
      ON CONFLICT (issue_id, segment_key, status, tracked, backend)
        DO UPDATE SET deliveries = r.deliveries + excluded.deliveries
    )
    SELECT count(*) AS folded FROM gone
  `.execute(db);
  return Number(rows[0]?.folded ?? 0);
}
