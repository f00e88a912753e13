import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import * as initial from './migrations/20261125090000_initial.ts';
import * as issueSelection from './migrations/20261125100000_issue_selection.ts';
import * as sendLedger from './migrations/20261125120000_send_ledger.ts';
import * as subscriberEndpoints from './migrations/20261125130000_subscriber_endpoints.ts';
import * as scheduleFireDetail from './migrations/20261125140000_schedule_fire_detail.ts';
import * as signupThrottle from './migrations/20261130010000_signup_throttle.ts';
import * as reencodeUrls from './migrations/20261130020000_reencode_urls.ts';
import * as sendPacingLocalTime from './migrations/20261130030000_send_pacing_local_time.ts';
import * as alerts from './migrations/20261130035000_alerts.ts';
import * as storyHook from './migrations/20261130040000_story_hook.ts';
import * as storyIngestion from './migrations/20261130050000_story_ingestion.ts';
import * as readersDecide from './migrations/20261130060000_readers_decide.ts';
import * as eventRollups from './migrations/20261130070000_event_rollups.ts';
import * as optOutRollups from './migrations/20261130080000_opt_out_rollups.ts';
import * as trackingEventIds from './migrations/20261207020000_tracking_event_ids.ts';
import * as indexedLinkPositions from './migrations/20261207043000_indexed_link_positions.ts';
import * as overrideChannel from './migrations/20261207053000_override_channel.ts';
import * as readerSearch from './migrations/20261207060000_reader_search.ts';
import * as relayWebhooks from './migrations/20261207070000_relay_webhooks.ts';
import * as issueWriting from './migrations/20261207080000_issue_writing.ts';
import * as workerHeartbeats from './migrations/20261207081000_worker_heartbeats.ts';
import * as relaysAndMxPacing from './migrations/20261207082000_relays_and_mx_pacing.ts';
import * as bounceMailbox from './migrations/20261207083000_bounce_mailbox.ts';
import * as subjectTests from './migrations/20261207085200_subject_tests.ts';
import * as readerFeedback from './migrations/20261207090000_reader_feedback.ts';
import * as storyUpdates from './migrations/20261207092000_story_updates.ts';

/**
 * Every migration, by its timestamped name. Listed statically (not read from the folder) so the same
 * code runs under tsx, vitest and any bundler; add new files here in order.
 */
const migrations: Record<string, Migration> = {
  '20261125090000_initial': initial,
  '20261125100000_issue_selection': issueSelection,
  '20261125120000_send_ledger': sendLedger,
  '20261125130000_subscriber_endpoints': subscriberEndpoints,
  '20261125140000_schedule_fire_detail': scheduleFireDetail,
  '20261130010000_signup_throttle': signupThrottle,
  '20261130035000_alerts': alerts,
  '20261130020000_reencode_urls': reencodeUrls,
  '20261130040000_story_hook': storyHook,
  '20261130060000_readers_decide': readersDecide,
  '20261130050000_story_ingestion': storyIngestion,
  '20261130070000_event_rollups': eventRollups,
  '20261130030000_send_pacing_local_time': sendPacingLocalTime,
  '20261130080000_opt_out_rollups': optOutRollups,
  '20261207020000_tracking_event_ids': trackingEventIds,
  '20261207043000_indexed_link_positions': indexedLinkPositions,
  '20261207053000_override_channel': overrideChannel,
  '20261207060000_reader_search': readerSearch,
  '20261207070000_relay_webhooks': relayWebhooks,
  '20261207080000_issue_writing': issueWriting,
  '20261207081000_worker_heartbeats': workerHeartbeats,
  '20261207082000_relays_and_mx_pacing': relaysAndMxPacing,
  '20261207083000_bounce_mailbox': bounceMailbox,
  '20261207085200_subject_tests': subjectTests,
  '20261207090000_reader_feedback': readerFeedback,
  '20261207092000_story_updates': storyUpdates,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Applies every pending migration; idempotent, safe to call from every command. Throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  const failed = results?.find((result) => result.status === 'Error');
  if (error) {
    const reason = error instanceof Error ? error.message : String(error);
    // Before any migration ran (the database did not answer): the cause's own words, and the cause kept
    // so callers can tell an outage from a failed migration.
    if (!failed) throw new Error(`migrations could not start: ${reason}`, { cause: error });
    throw new Error(`migration ${failed.migrationName} failed: ${reason}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
