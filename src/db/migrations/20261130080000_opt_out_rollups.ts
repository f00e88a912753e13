import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
//
// Unsubscribes and complaints are attributed to issues when they are written, not when reports are
// read: issue_opt_outs holds one row per issue × subscriber it lost (or was complained about by), kept
// by a statement-level trigger on consent_log, and backfilled here from the existing records.
//
// A record belongs to the issue it names (detail->>'issueId', compared as text: a value naming no issue
// counts nowhere), made at or after that send started; a record naming none belongs to the
// issue whose send window [send_started_at, the next week's send_started_at) holds occurred_at. Either
// way it counts only if that issue was addressed to the subscriber (a delivery row exists); the
// delivery's segment set is kept with the row so per-segment numbers need no join.
function attributeOptOuts(records: string): string {
  return `
    INSERT INTO issue_opt_outs AS o (issue_id, subscriber_id, segment_key, unsubscribed, complained)
    SELECT w.id, c.subscriber_id, d.segment_key,
      bool_or(c.action = 'unsubscribe'), bool_or(c.action = 'complaint')
    FROM (
      SELECT subscriber_id, action, occurred_at, detail->>'issueId' AS named_issue
      FROM ${records} WHERE action IN ('unsubscribe', 'complaint')
    ) c
    JOIN (
      SELECT id, send_started_at AS from_at, lead(send_started_at) OVER (ORDER BY week) AS to_at FROM issues
    ) w ON (c.named_issue = w.id::text AND c.occurred_at >= coalesce(w.from_at, '-infinity'::timestamptz))
      OR (c.named_issue IS NULL AND w.from_at IS NOT NULL AND c.occurred_at >= w.from_at
          AND (w.to_at IS NULL OR c.occurred_at < w.to_at))
    JOIN deliveries d ON d.issue_id = w.id AND d.subscriber_id = c.subscriber_id
    GROUP BY w.id, c.subscriber_id, d.segment_key
    ORDER BY w.id, c.subscriber_id
    ON CONFLICT (issue_id, subscriber_id) DO UPDATE SET
      unsubscribed = o.unsubscribed OR excluded.unsubscribed,
      complained = o.complained OR excluded.complained`;
}

export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(`
    -- No foreign key to subscribers, like the other rollups' per-person rows: erasure moves the rows
    -- to the placeholder that keeps the person's deliveries, so the counts stay as they were.
    CREATE TABLE issue_opt_outs (
      issue_id integer NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
      subscriber_id bigint NOT NULL,
      segment_key text NOT NULL,
      unsubscribed boolean NOT NULL,
      complained boolean NOT NULL,
      PRIMARY KEY (issue_id, subscriber_id)
    );
    CREATE INDEX issue_opt_outs_subscriber ON issue_opt_outs (subscriber_id);

    -- Per statement, over the inserted records (a transition table), so a set-based insert of many
    -- records is attributed in one query; statements that insert no opt-out find nothing to do.
    CREATE FUNCTION roll_up_opt_outs() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      ${attributeOptOuts('new_records')};
      RETURN NULL;
    END
    $fn$;
    CREATE TRIGGER consent_log_roll_up_opt_outs AFTER INSERT ON consent_log
      REFERENCING NEW TABLE AS new_records FOR EACH STATEMENT EXECUTE FUNCTION roll_up_opt_outs();

    ${attributeOptOuts('consent_log')};
  `)
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TRIGGER consent_log_roll_up_opt_outs ON consent_log;
    DROP FUNCTION roll_up_opt_outs();
    DROP TABLE issue_opt_outs;
  `.execute(db);
}
