import type { ColumnType, Generated, Insertable, Kysely, Selectable, Transaction } from 'kysely';

/** A timestamp: read as Date, written as Date or ISO string. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type DefaultedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string | T | undefined, string | T>;

export interface StoriesTable {
  id: string;
  title: string;
  /** One-line hook (the card's dek); null when the story has none. */
  hook: ColumnType<string | null, string | null | undefined, string | null>;
  url: string;
  canonical_url: string;
  source_name: string;
  source_url: string | null;
  region: string | null;
  published_at: Timestamp | null;
  collected_at: Timestamp | null;
  tldr_what_changed: string | null;
  tldr_why_it_matters: string | null;
  tldr_what_to_do_next: string | null;
  related: Json<RelatedStoryRef[]>;
  imported_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
  /** sha256 of the story as stored (added by 20261130050000): an identical record changes nothing. */
  content_hash: ColumnType<string | null, string | null | undefined, string | null>;
  /** When the story was withdrawn; it then leaves every issue not yet sent. */
  retracted_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface RelatedStoryRef {
  id?: string;
  title?: string;
  url?: string;
}

export interface StoryTakeawaysTable {
  story_id: string;
  position: number;
  text: string;
}

export interface StoryImplicationsTable {
  story_id: string;
  position: number;
  prediction: string;
  rationale: string | null;
}

export interface StoryTimelineEventsTable {
  story_id: string;
  position: number;
  date: string;
  event: string;
}

export interface SegmentsTable {
  id: Generated<number>;
  name: string;
  slug: string;
}

export interface StorySegmentsTable {
  story_id: string;
  segment_id: number;
}

/** 'sunset': paused for inactivity; 'erased': anonymous placeholder of an erased person's past deliveries. */
export type SubscriberStatus =
  | 'pending'
  | 'active'
  | 'unsubscribed'
  | 'bounced'
  | 'complained'
  | 'sunset'
  | 'erased';

export interface SubscribersTable {
  id: Generated<string>;
  email: string;
  name: string | null;
  time_zone: string | null;
  status: ColumnType<SubscriberStatus, SubscriberStatus | undefined, SubscriberStatus>;
  tracking_enabled: Generated<boolean>;
  paused_until: Timestamp | null;
  soft_bounce_count: Generated<number>;
  last_soft_bounce_issue_id: ColumnType<number | null, number | null | undefined, number | null>;
  created_at: DefaultedTimestamp;
  confirmed_at: Timestamp | null;
  unsubscribed_at: Timestamp | null;
  /** When the last sign-up confirmation was mailed (one per SIGNUP_CONFIRM_INTERVAL). */
  confirmation_sent_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** Verdict of the strict address parser; null until checked (reset by a trigger when email changes). */
  address_invalid: ColumnType<boolean | null, boolean | null | undefined, boolean | null>;
  /** When the one re-engagement mail went out; null when none awaits an answer (added by 20261130060000). */
  reengagement_sent_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** Inactivity counts deliveries after this moment (set when the reader chose to keep the recap). */
  inactivity_counted_from: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** When the reader was paused for inactivity (status 'sunset'). */
  sunset_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface SubscriptionsTable {
  subscriber_id: string;
  segment_id: number;
  created_at: DefaultedTimestamp;
}

export type IssueStatus = 'draft' | 'approved' | 'scheduled' | 'sending' | 'paused' | 'cancelled' | 'sent';

export interface AudienceCounts {
  eligible: number;
  suppressed: number;
  unsubscribed: number;
  pending: number;
}

export interface IssuesTable {
  id: Generated<number>;
  week: string;
  status: ColumnType<IssueStatus, IssueStatus | undefined, IssueStatus>;
  created_at: DefaultedTimestamp;
  built_at: Timestamp | null;
  approved_at: Timestamp | null;
  send_started_at: Timestamp | null;
  send_finished_at: Timestamp | null;
  status_reason: string | null;
  audience_counts: Json<AudienceCounts | null>;
  /** The explanation of the last build (src/issues/issue-report.ts), null before the first build. */
  selection_report: Json<unknown | null>;
  /** The issue's content frozen when it was approved or its send started (added by 20261130050000). */
  content_snapshot: Json<unknown | null>;
  /** The deliverability guard counts from here: the send's start or its last resume (20261130030000). */
  guard_since: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface IssueItemsTable {
  issue_id: number;
  segment_id: number;
  story_id: string;
  position: number;
  score: number;
  fallback: Generated<boolean>;
  also_covered_by: Json<string[]>;
  reasons: Json<string[]>;
  score_breakdown: Json<Record<string, number>>;
  /** The same-event cluster the story represents; null for items stored before clustering existed. */
  cluster_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** What the item continues (IssueStory['update'] as JSON); null: not an update (added by 20261207092000). */
  update_of: ColumnType<unknown | null, string | null | undefined, string | null>;
}

export type OverrideKind = 'pin' | 'drop' | 'boost';

export interface IssueOverridesTable {
  id: Generated<number>;
  week: string;
  segment_id: number | null;
  story_id: string;
  kind: OverrideKind;
  position: number | null;
  boost: number | null;
  created_at: DefaultedTimestamp;
  /** Where the override was made: 'editor' (web) or 'cli'; NULL for rows older than the column ("unknown"). */
  created_by: OverrideChannel | null;
}

export type OverrideChannel = 'editor' | 'cli';

export type WorkerKind = 'worker' | 'send' | 'serve';

/** A running sending worker's last sign of life (20261207081000). */
export interface WorkerHeartbeatsTable {
  worker_id: string;
  kind: WorkerKind;
  host: string;
  pid: number;
  issue_id: number | null;
  started_at: DefaultedTimestamp;
  seen_at: DefaultedTimestamp;
}

/** The editor's note, subject and preheader of a week's issue (NULL: none / the computed one). */
export interface IssueWritingTable {
  week: string;
  note: string | null;
  subject: string | null;
  preheader: string | null;
  updated_at: DefaultedTimestamp;
  updated_by: OverrideChannel | null;
}

export interface IssueLinksTable {
  issue_id: number;
  position: number;
  url: string;
  story_id: string | null;
  kind: ColumnType<string, string | undefined, string>;
}

export type DeliveryStatus = 'queued' | 'sent' | 'failed' | 'bounced' | 'skipped' | 'cancelled';

export interface DeliveriesTable {
  id: Generated<string>;
  issue_id: number;
  subscriber_id: string;
  segment_key: string;
  status: ColumnType<DeliveryStatus, DeliveryStatus | undefined, DeliveryStatus>;
  attempts: Generated<number>;
  lease_owner: string | null;
  lease_expires_at: Timestamp | null;
  next_attempt_at: Timestamp | null;
  message_id: string;
  last_error: string | null;
  sent_at: Timestamp | null;
  created_at: DefaultedTimestamp;
  /** Class of the last failure (added by 20261125120000). */
  failure_kind: ColumnType<
    SendFailureKind | null,
    SendFailureKind | null | undefined,
    SendFailureKind | null
  >;
  /** SMTP reply code and enhanced status of the last failure, e.g. "550 5.1.1". */
  smtp_code: ColumnType<string | null, string | null | undefined, string | null>;
  last_attempt_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** Whether the message carried the open pixel and tracked links, fixed at the audience freeze. */
  tracked: Generated<boolean>;
  /** The relay's own id of the message, from its SMTP 250 reply (20261207070000); null when it gave none. */
  relay_message_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Local-time delivery: not claimed before this instant; null means at once (20261130030000). */
  not_before: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** The reader's group in the issue's subject test ('held': the rest, who get the winner); null: no test. */
  subject_group: ColumnType<SubjectGroup | null, SubjectGroup | null | undefined, SubjectGroup | null>;
  /** The subject variant the message carries; null while held (such a row is not claimed). */
  subject_variant: ColumnType<
    SubjectVariant | null,
    SubjectVariant | null | undefined,
    SubjectVariant | null
  >;
  /** The reader's own order of the edition's movable stories (story ids), fixed at the freeze; null: editorial (20261207090000). */
  story_order: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
  /** 'personal' or 'holdout' (kept on the editorial order to measure); null: personal order off or untracked. */
  order_group: ColumnType<OrderGroup | null, OrderGroup | null | undefined, OrderGroup | null>;
}

export type OrderGroup = 'personal' | 'holdout';

/** One reader's "more like this" (+1) or "less like this" (-1) on a story (added by 20261207090000). */
export interface StoryVotesTable {
  subscriber_id: string;
  story_id: string;
  /** The issue the vote was cast from. */
  issue_id: number;
  vote: -1 | 1;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

/** One reader's rating of an issue: 1 poor, 2 fine, 3 great (added by 20261207090000). */
export interface IssueRatingsTable {
  issue_id: number;
  subscriber_id: string;
  rating: 1 | 2 | 3;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

/** A subject variant of an issue: A is the subject without a test (computed, or the override). */
export type SubjectVariant = 'A' | 'B' | 'C';
export type SubjectGroup = SubjectVariant | 'held';

/** Variants B and C of a week's subject and preheader (added by 20261207085200). */
export interface IssueSubjectVariantsTable {
  week: string;
  variant: 'B' | 'C';
  subject: string;
  preheader: string | null;
  updated_at: DefaultedTimestamp;
  updated_by: OverrideChannel | null;
}

/** One subject test per issue sent with variants: its split, when it is decided, and the decision. */
export interface SubjectTestsTable {
  issue_id: number;
  variants: SubjectVariant[];
  salt: string;
  share: number;
  started_at: DefaultedTimestamp;
  decide_at: Timestamp;
  decided_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  winner: ColumnType<SubjectVariant | null, SubjectVariant | null | undefined, SubjectVariant | null>;
  reason: ColumnType<string | null, string | null | undefined, string | null>;
  figures: ColumnType<unknown, string | null | undefined, string | null>;
}

export type SendFailureKind = 'transient' | 'permanent' | 'policy' | 'fatal';

/** Messages all send workers together have used in one second of database time (SEND_RATE). */
export interface SendDomainSlotsTable {
  domain: string;
  slot: string;
  used: Generated<number>;
  last_grant: Generated<number>;
}

export interface SendRateSlotsTable {
  slot: string;
  used: Generated<number>;
  last_grant: Generated<number>;
}

export type EventClass = 'human' | 'machine' | 'scanner' | 'unknown';

export interface TrackingEventsTable {
  id: Generated<string>;
  kind: 'open' | 'click';
  issue_id: number;
  subscriber_id: string;
  link_position: number | null;
  class: ColumnType<EventClass, EventClass | undefined, EventClass>;
  method: ColumnType<string, string | undefined, string>;
  ip: string | null;
  user_agent: string | null;
  occurred_at: DefaultedTimestamp;
  reason: ColumnType<string | null, string | null | undefined, string | null>;
  /** The id the server gave the event when it answered (null for events stored before ids): stored once. */
  event_id: ColumnType<string | null, string | null | undefined, string | null>;
}

/** Events per issue × subscriber × kind ('open', 'click', or 'any' for human events of either) × class. */
export interface EventReaderCountsTable {
  issue_id: number;
  subscriber_id: string;
  kind: 'open' | 'click' | 'any';
  class: EventClass;
  events: number;
}

/** Human clicks per issue × link × subscriber. */
export interface EventLinkReadersTable {
  issue_id: number;
  link_position: number;
  subscriber_id: string;
  clicks: number;
}

/** Events and distinct subscribers per issue × segment set ('' when no delivery was found) × kind × class. */
export interface IssueEventRollupsTable {
  issue_id: number;
  segment_key: string;
  kind: 'open' | 'click' | 'any';
  class: EventClass;
  events: string;
  readers: string;
}

/** Clicks per issue × link × class; readers = distinct human clickers (0 for other classes). */
export interface IssueLinkRollupsTable {
  issue_id: number;
  link_position: number;
  class: EventClass;
  clicks: string;
  readers: string;
}

/** Deliveries per issue × segment set × status × tracked, one row per writing session (summed when read). */
export interface IssueDeliveryRollupsTable {
  issue_id: number;
  segment_key: string;
  status: DeliveryStatus;
  tracked: boolean;
  backend: Generated<number>;
  deliveries: string;
}

/**
 * Unsubscribes and complaints per issue × subscriber, attributed when the consent record is written
 * (trigger on consent_log): the issue the record names, else the one whose send window it fell in, and
 * only if that issue was addressed to the subscriber. segment_key is that delivery's segment set.
 */
export interface IssueOptOutsTable {
  issue_id: number;
  subscriber_id: string;
  segment_key: string;
  unsubscribed: boolean;
  complained: boolean;
}

export interface ConsentLogTable {
  id: Generated<string>;
  subscriber_id: string;
  action: string;
  occurred_at: DefaultedTimestamp;
  ip: string | null;
  user_agent: string | null;
  detail: Json<Record<string, unknown>>;
}

export interface ScheduleFiresTable {
  schedule_name: string;
  slot: Timestamp;
  fired_at: DefaultedTimestamp;
  owner: string;
  outcome: string | null;
  /** The ISO week the slot sends (added by 20261125140000). */
  week: string | null;
  /** Why the outcome was decided, in words. */
  detail: string | null;
  /** Heartbeat of the run holding the slot. */
  updated_at: DefaultedTimestamp;
}

/** Addresses erased on request, as SHA-256 of the normalised address (src/subscribers/erasure.ts). */
export interface ErasedAddressesTable {
  hash: string;
  erased_at: DefaultedTimestamp;
}

/** A pulled story feed (RECAP_STORIES_URL): its HTTP validators and its last pull. */
export interface IngestSourcesTable {
  url: string;
  etag: string | null;
  last_modified: string | null;
  last_pull_at: Timestamp | null;
  last_status: string | null;
  last_detail: string | null;
  last_success_at: Timestamp | null;
  imported: Generated<number>;
  updated: Generated<number>;
  unchanged: Generated<number>;
  retracted: Generated<number>;
  invalid: Generated<number>;
}

/** One import of stories: an API batch, a pull, a file. */
export interface IngestRunsTable {
  id: Generated<string>;
  kind: 'api' | 'pull' | 'file';
  source: string;
  started_at: DefaultedTimestamp;
  finished_at: DefaultedTimestamp;
  status: string;
  imported: Generated<number>;
  updated: Generated<number>;
  unchanged: Generated<number>;
  retracted: Generated<number>;
  invalid: Generated<number>;
  bytes: ColumnType<string, number | string | undefined, number | string>;
  detail: string | null;
}

/** Provider webhook events already acted on (20261207070000): one row per provider and event id. */
export interface WebhookEventsTable {
  provider: string;
  event_id: string;
  received_at: DefaultedTimestamp;
}

/**
 * Messages of the bounce mailbox taken on by a poller (20261207083000): one row per folder, UIDVALIDITY
 * and UID; handled_at set once acted on, folder where it is moved.
 */
export interface BounceMailboxMessagesTable {
  mailbox: string;
  /** bigint: pg returns it as a string. */
  uid_validity: ColumnType<string, string, never>;
  uid: ColumnType<string, string | number, never>;
  message_id: string | null;
  claimed_by: string;
  claimed_at: DefaultedTimestamp;
  handled_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  folder: string | null;
  outcome: string | null;
}

/** The whole schema as Kysely sees it; kept in step with src/db/migrations by hand. */
export interface Database {
  stories: StoriesTable;
  story_takeaways: StoryTakeawaysTable;
  story_implications: StoryImplicationsTable;
  story_timeline_events: StoryTimelineEventsTable;
  segments: SegmentsTable;
  story_segments: StorySegmentsTable;
  subscribers: SubscribersTable;
  subscriptions: SubscriptionsTable;
  issues: IssuesTable;
  issue_items: IssueItemsTable;
  issue_overrides: IssueOverridesTable;
  issue_writing: IssueWritingTable;
  issue_subject_variants: IssueSubjectVariantsTable;
  subject_tests: SubjectTestsTable;
  worker_heartbeats: WorkerHeartbeatsTable;
  issue_links: IssueLinksTable;
  deliveries: DeliveriesTable;
  story_votes: StoryVotesTable;
  issue_ratings: IssueRatingsTable;
  webhook_events: WebhookEventsTable;
  bounce_mailbox_messages: BounceMailboxMessagesTable;
  tracking_events: TrackingEventsTable;
  event_reader_counts: EventReaderCountsTable;
  event_link_readers: EventLinkReadersTable;
  issue_event_rollups: IssueEventRollupsTable;
  issue_link_rollups: IssueLinkRollupsTable;
  issue_opt_outs: IssueOptOutsTable;
  issue_delivery_rollups: IssueDeliveryRollupsTable;
  consent_log: ConsentLogTable;
  schedule_fires: ScheduleFiresTable;
  send_rate_slots: SendRateSlotsTable;
  ingest_sources: IngestSourcesTable;
  ingest_runs: IngestRunsTable;
  alerts: AlertsTable;
  erased_addresses: ErasedAddressesTable;
  send_domain_slots: SendDomainSlotsTable;
  issue_relay_counts: IssueRelayCountsTable;
  send_mx_resolutions: SendMxResolutionsTable;
  send_mx_hosts: SendMxHostsTable;
  reader_imports: ReaderImportsTable;
}

/** Messages one worker sent through one relay of SMTP_URLS for one issue (added by 20261207082000). */
export interface IssueRelayCountsTable {
  issue_id: number;
  relay: string;
  worker_id: string;
  /** bigint: read as a string. */
  sent: ColumnType<string, number | undefined, number>;
}

/** The MX resolution of one send's recipient domains: started by its first worker, finished once stored (20261207082000). */
export interface SendMxResolutionsTable {
  issue_id: number;
  started_at: DefaultedTimestamp;
  finished_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  domains: number | null;
  resolved: number | null;
}

/** The MX host one send paces a recipient domain by (the domain itself when it did not resolve). */
export interface SendMxHostsTable {
  issue_id: number;
  domain: string;
  mx_host: string;
}

export type ReaderImportStatus = 'reading' | 'writing' | 'done' | 'refused' | 'failed';

/** A CSV import started from the editor (added by 20261207060000): its progress and, once over, its report. */
export interface ReaderImportsTable {
  id: Generated<string>;
  file_name: string;
  status: ColumnType<ReaderImportStatus, ReaderImportStatus | undefined, ReaderImportStatus>;
  skip_invalid: ColumnType<boolean, boolean | undefined, boolean>;
  /** bigint: read as a string. */
  bytes_total: ColumnType<string, number, number>;
  bytes_read: ColumnType<string, number | undefined, number>;
  rows_read: ColumnType<number, number | undefined, number>;
  report: Json<unknown | null>;
  started_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
  finished_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/** One operator alert per cause (primary key kind + cause): the row that wins the insert sends it. */
export interface AlertsTable {
  kind: string;
  cause: string;
  subject: string;
  payload: Json<Record<string, unknown>>;
  created_at: DefaultedTimestamp;
  delivered_at: Timestamp | null;
  error: string | null;
}

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
export type StoryRow = Selectable<StoriesTable>;
export type NewStoryRow = Insertable<StoriesTable>;
export type SubscriberRow = Selectable<SubscribersTable>;
export type IssueRow = Selectable<IssuesTable>;
export type DeliveryRow = Selectable<DeliveriesTable>;
