import { sql } from 'kysely';
import type { Db, Tx } from '../db/database.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { SystemTemplates } from '../render/system-mail.ts';
import { appendConsent, type ConsentContext } from './consent-log.ts';

/** SUNSET_AFTER_ISSUES and SUNSET_GRACE_DAYS, and what a re-engagement mail needs. */
export interface SunsetSettings {
  /** Sent issues without a human open or click, story vote or issue rating before a reader is asked; 0 turns sunsetting off. */
  afterIssues: number;
  graceDays: number;
  from: string;
  /** Domain of the re-engagement mails' Message-IDs. */
  messageIdDomain: string;
  postalAddress: string;
  /** The personal keep and preferences links of one subscriber. */
  links(subscriberId: string): { keepUrl: string; preferencesUrl: string };
}

export interface SunsetResult {
  /** Re-engagement mails sent now. */
  asked: number;
  /** Asked but not sent (refused by the mail server): asked again on the next run. */
  failed: number;
  /** Paused for inactivity now (no answer within the grace period). */
  paused: number;
  /** Asked earlier and answered by reading (a human open or click, a vote or a rating since the mail): no longer asked. */
  answered: number;
}

/**
 * Tracked, active readers whose last `afterIssues` delivered (sent, tracked) issues since their last
 * "keep" show no human open or click and no story vote or issue rating (cast from one of those issues
 * or since the first was sent), and who have not been asked yet. Untracked readers never appear:
 * nothing is known about their reading. One query.
 */
export async function findInactiveReaders(db: Db | Tx, afterIssues: number): Promise<string[]> {
  if (afterIssues <= 0) return [];
  const result = await sql<{ subscriber_id: string }>`
    WITH recent AS (
      SELECT d.subscriber_id, d.issue_id, d.sent_at,
        row_number() OVER (PARTITION BY d.subscriber_id ORDER BY d.issue_id DESC) AS n
      FROM deliveries d
      JOIN subscribers s ON s.id = d.subscriber_id
      WHERE s.status = 'active' AND s.tracking_enabled AND s.reengagement_sent_at IS NULL
        AND d.status = 'sent' AND d.tracked
        AND (s.inactivity_counted_from IS NULL OR d.created_at > s.inactivity_counted_from)
    ), windows AS (
      SELECT subscriber_id, min(issue_id) AS first_issue, min(sent_at) AS first_sent
      FROM recent WHERE n <= ${afterIssues}
      GROUP BY subscriber_id HAVING count(*) >= ${afterIssues}
    )
    SELECT w.subscriber_id FROM windows w
    WHERE NOT EXISTS (
      SELECT 1 FROM tracking_events e
      WHERE e.subscriber_id = w.subscriber_id AND e.class = 'human'
        AND (e.issue_id >= w.first_issue OR e.occurred_at >= w.first_sent)
    ) AND NOT EXISTS (
      SELECT 1 FROM story_votes v
      WHERE v.subscriber_id = w.subscriber_id AND (v.issue_id >= w.first_issue OR v.updated_at >= w.first_sent)
    ) AND NOT EXISTS (
      SELECT 1 FROM issue_ratings r
      WHERE r.subscriber_id = w.subscriber_id AND (r.issue_id >= w.first_issue OR r.updated_at >= w.first_sent)
    )
    ORDER BY w.subscriber_id`.execute(db);
  return result.rows.map((row) => row.subscriber_id);
}

/**
 * One sunsetting pass at `now`: first, readers asked more than `graceDays` ago are paused (status
 * 'sunset', kept, shown as paused) unless they read since the mail, kept, or turned tracking off; then
 * every newly inactive reader gets the one re-engagement mail. A reader is marked asked before the mail
 * goes out (one UPDATE … RETURNING for all), so two concurrent runs never mail anyone twice; a mail the
 * server refuses is unmarked and asked again next run. Every step is in the consent log.
 */
// Long: one sunsetting pass: find, ask, pause and record, in that order, in batches.
export async function runSunset(
  db: Db,
  mailer: Mailer,
  templates: SystemTemplates,
  settings: SunsetSettings,
  now: Date = new Date(),
): Promise<SunsetResult> {
  if (settings.afterIssues <= 0) return { asked: 0, failed: 0, paused: 0, answered: 0 };
  const deadline = new Date(now.getTime() - settings.graceDays * 86_400_000);
  const { paused, answered } = await db.transaction().execute(async (trx) => {
    const read = await sql<{ id: string }>`
      UPDATE subscribers s SET reengagement_sent_at = NULL, inactivity_counted_from = ${now}
      WHERE s.reengagement_sent_at IS NOT NULL AND s.status = 'active'
        AND (NOT s.tracking_enabled OR EXISTS (
          SELECT 1 FROM tracking_events e
          WHERE e.subscriber_id = s.id AND e.class = 'human' AND e.occurred_at >= s.reengagement_sent_at)
          OR EXISTS (SELECT 1 FROM story_votes v
            WHERE v.subscriber_id = s.id AND v.updated_at >= s.reengagement_sent_at)
          OR EXISTS (SELECT 1 FROM issue_ratings r
            WHERE r.subscriber_id = s.id AND r.updated_at >= s.reengagement_sent_at))
      RETURNING s.id`.execute(trx);
    const expired = await trx
      .updateTable('subscribers')
      .set({ status: 'sunset', sunset_at: now })
      .where('status', '=', 'active')
      .where('reengagement_sent_at', '<=', deadline)
      .returning('id')
      .execute();
    if (expired.length > 0) {
      await trx
        .insertInto('consent_log')
        .values(
          expired.map((row) => ({
            subscriber_id: row.id,
            action: 'sunset-paused',
            occurred_at: now,
            detail: JSON.stringify({ source: 'sunset', graceDays: settings.graceDays }),
          })),
        )
        .execute();
    }
    return { paused: expired.length, answered: read.rows.length };
  });

  const inactive = await findInactiveReaders(db, settings.afterIssues);
  if (inactive.length === 0) return { asked: 0, failed: 0, paused, answered };
  const claimed = await db
    .updateTable('subscribers')
    .set({ reengagement_sent_at: now })
    .where('id', 'in', inactive)
    .where('reengagement_sent_at', 'is', null)
    .where('status', '=', 'active')
    .returning(['id', 'email', 'name'])
    .execute();
  const sent: string[] = [];
  const refused: string[] = [];
  for (const reader of claimed) {
    const links = settings.links(reader.id);
    const message = templates.render('reengage', {
      name: reader.name ?? '',
      keep_url: links.keepUrl,
      preferences_url: links.preferencesUrl,
      grace_days: String(settings.graceDays),
      postal_address: settings.postalAddress,
    });
    const result = await mailer.send({
      from: settings.from,
      to: reader.email,
      subject: message.subject,
      html: message.html,
      text: message.text,
      headers: message.headers,
      messageId: `<reengage.${reader.id}.${now.getTime().toString(36)}@${settings.messageIdDomain}>`,
    });
    (result.ok ? sent : refused).push(reader.id);
  }
  if (refused.length > 0) {
    await db
      .updateTable('subscribers')
      .set({ reengagement_sent_at: null })
      .where('id', 'in', refused)
      .execute();
  }
  if (sent.length > 0) {
    await db
      .insertInto('consent_log')
      .values(
        sent.map((id) => ({
          subscriber_id: id,
          action: 'reengagement-sent',
          occurred_at: now,
          detail: JSON.stringify({
            source: 'sunset',
            afterIssues: settings.afterIssues,
            graceDays: settings.graceDays,
            shown: 'Still want the recap? (re-engagement mail with a one-click keep link)',
          }),
        })),
      )
      .execute();
  }
  return { asked: sent.length, failed: refused.length, paused, answered };
}

export const KEEP_PAGE_TEXT = 'Keep the recap coming';

/**
 * The reader's answer to the re-engagement mail (the keep link, or any later wish to resume): inactivity
 * is counted afresh from `now`, and a reader paused for inactivity receives the recap again. Idempotent:
 * `changed` is false when there was nothing to undo. Never touches unsubscribed, bounced or erased readers.
 */
export async function keepSubscription(
  db: Db,
  subscriberId: string,
  context: ConsentContext,
  now: Date = new Date(),
): Promise<{ changed: boolean; found: boolean; receiving: boolean }> {
  return db.transaction().execute(async (trx) => {
    const current = await trx
      .selectFrom('subscribers')
      .select(['status', 'reengagement_sent_at'])
      .where('id', '=', subscriberId)
      .forUpdate()
      .executeTakeFirst();
    if (!current || (current.status !== 'active' && current.status !== 'sunset')) {
      return {
        changed: false,
        found: current !== undefined && current.status !== 'erased',
        receiving: false,
      };
    }
    if (current.status === 'active' && current.reengagement_sent_at === null) {
      return { changed: false, found: true, receiving: true };
    }
    await trx
      .updateTable('subscribers')
      .set({ status: 'active', sunset_at: null, reengagement_sent_at: null, inactivity_counted_from: now })
      .where('id', '=', subscriberId)
      .execute();
    await appendConsent(trx, subscriberId, 'kept', context, {
      shown: KEEP_PAGE_TEXT,
      wasPaused: current.status === 'sunset',
    });
    return { changed: true, found: true, receiving: true };
  });
}

/** Re-engagement mails and pauses for inactivity per ISO week, newest first. */
export interface SunsetWeek {
  week: string;
  asked: number;
  paused: number;
}

/** How many readers were asked and paused per ISO week (of the action), the last `limit` weeks with any. */
export async function loadSunsetByWeek(db: Db, limit = 12): Promise<SunsetWeek[]> {
  const result = await sql<{ week: string; asked: string; paused: string }>`
    SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'IYYY-"W"IW') AS week,
      count(*) FILTER (WHERE action = 'reengagement-sent') AS asked,
      count(*) FILTER (WHERE action = 'sunset-paused') AS paused
    FROM consent_log WHERE action IN ('reengagement-sent', 'sunset-paused')
    GROUP BY 1 ORDER BY 1 DESC LIMIT ${limit}`.execute(db);
  return result.rows.map((row) => ({ week: row.week, asked: Number(row.asked), paused: Number(row.paused) }));
}

/** Readers currently paused for inactivity. */
export async function countSunsetReaders(db: Db): Promise<number> {
  const row = await db
    .selectFrom('subscribers')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('status', '=', 'sunset')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
