import type { ColumnType, Generated, Insertable, Kysely, Selectable, Transaction } from 'kysely';

/** A timestamp: read as Date, written as Date or ISO string. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type DefaultedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string | T | undefined, string | T>;

export interface StoriesTable {
  id: string;
  title: string;
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

export type SubscriberStatus = 'pending' | 'active' | 'unsubscribed' | 'bounced' | 'complained';

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
  /** Local-time delivery: not claimed before this instant; null means at once (20261130030000). */
  not_before: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
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
  issue_links: IssueLinksTable;
  deliveries: DeliveriesTable;
  tracking_events: TrackingEventsTable;
  consent_log: ConsentLogTable;
  schedule_fires: ScheduleFiresTable;
  send_rate_slots: SendRateSlotsTable;
  send_domain_slots: SendDomainSlotsTable;
}

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
export type StoryRow = Selectable<StoriesTable>;
export type NewStoryRow = Insertable<StoriesTable>;
export type SubscriberRow = Selectable<SubscribersTable>;
export type IssueRow = Selectable<IssuesTable>;
export type DeliveryRow = Selectable<DeliveriesTable>;
