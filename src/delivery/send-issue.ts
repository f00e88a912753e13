import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db } from '../db/database.ts';
import { UserError } from '../errors.ts';
import { findIssueState } from '../issues/issue.repository.ts';
import { freezeIssueContent, loadIssueContent } from '../issues/issue-content.repository.ts';
import { editionFor, type IssueContent } from '../issues/issue-content.ts';
import { testedVariants } from '../issues/subject-variants.ts';
import type { Mailer } from '../mail/mailer.ts';
import { orderableSections } from '../personal-order/orderable-edition.ts';
import { issueLinks } from '../render/issue-links.ts';
import { segmentSetFromKey } from '../stories/segment-set.ts';
import { editionRendererFor, messageFactoryFor } from './edition-messages.ts';
import type { MessageFactory } from './message-factory.ts';
import type { PersonalOrderPlan } from './personal-orders.ts';
import type { SendSettings } from './send-settings.ts';
import { runWorker, type SendProgress, type SendSummary } from './send-worker.ts';
import { startSend } from './start-send.ts';
import { startHeartbeat } from './worker-heartbeat.repository.ts';

export { runWorker, type SendProgress, type SendSummary, type WorkerDeps } from './send-worker.ts';
export { type StartSendOptions, startSend } from './start-send.ts';

/** A worker id unique across machines and processes: host, pid and a random suffix. */
export function newWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** The database, the settings a send reads and the mailer it sends with (the caller closes it). */
export interface SendIssueDeps {
  db: Db;
  config: SendSettings;
  mailer: Mailer;
  /** The mailer of the send's alerts and of sunsetting (SYSTEM_SMTP_URL); default `mailer`. */
  systemMailer?: Mailer;
}

export interface SendIssueOptions {
  onProgress?: (progress: SendProgress) => void;
  signal?: AbortSignal;
  /** Messages for the issue; default the edition renderer over its stored content. */
  messages?: MessageFactory;
  /**
   * Local-time sends: keep running until the last time zone's delivery went out (hours), instead of
   * sending what is due and leaving the rest to `recap worker --follow` or the schedule.
   */
  wait?: boolean;
  /** Where the worker says what it waits for (the database or the relay away); default silent. */
  log?: (line: string) => void;
}

/**
 * The personal-order plan of an issue's content: each segment set's edition is rendered once (as the
 * sender renders it) to learn its movable stories, only for the sets the freeze asks about.
 */
export function personalOrderPlan(content: IssueContent, config: SendSettings): PersonalOrderPlan {
  const renderer = editionRendererFor(config, { honeypot: true });
  return {
    holdout: config.personalOrderHoldout ?? 0.1,
    sectionsFor(segmentKey) {
      const edition = editionFor(content, segmentSetFromKey(segmentKey).slugs);
      if (!edition.hero && edition.sections.length === 0) return null;
      const withWriting = content.writing ? { ...edition, writing: content.writing } : edition;
      return orderableSections(edition, renderer.template(withWriting).movable);
    },
  };
}

/**
 * Starts the send of a built issue without sending anything yet: freezes its content (unless approval
 * already did) and its audience, and returns the issue's id and the factory of its messages. Running it
 * again changes nothing. Throws UserError when the issue does not exist, is paused or cancelled, is a
 * draft while approval is required, or has no content.
 */
export async function beginSend(
  deps: Pick<SendIssueDeps, 'db' | 'config'>,
  week: string,
  messages?: MessageFactory,
): Promise<{ issueId: number; factory: MessageFactory }> {
  const { db, config } = deps;
  const issue = await findIssueState(db, week);
  if (!issue)
    throw new UserError(`no issue for ${week}: build it first with "recap issue build --week ${week}"`);
  if (issue.status === 'paused') {
    throw new UserError(
      `the send of ${week} is paused (${issue.statusReason ?? 'by an operator'}): "recap send resume --week ${week}" continues it`,
    );
  }
  if (issue.status === 'cancelled') throw new UserError(`the send of ${week} was cancelled`);
  // What goes out is frozen before the first message (if approval did not already freeze it).
  const startable = issue.status !== 'sent' && issue.status !== 'sending';
  if (startable && !(issue.status === 'draft' && config.requireApproval))
    await freezeIssueContent(db, week, config.timeZone);
  const content = await loadIssueContent(db, week, config.timeZone);
  if (!content && !messages) throw new UserError(`issue ${week} has no stored content: build it first`);
  const factory = messages ?? messageFactoryFor(content as IssueContent, config);
  const variants = testedVariants(content?.subjectVariants);
  if (startable && variants.length > 0 && config.send.delivery === 'local')
    throw new UserError(
      `issue ${week} has subject variants: a subject test cannot run with RECAP_DELIVERY=local in this version`,
    );
  if (startable) {
    await startSend(db, issue.id, {
      messageIdDomain: config.sender.email.split('@')[1] ?? 'localhost',
      links: content ? issueLinks(content) : [],
      ...(content ? { segmentIds: content.sections.filter((s) => !s.skipped).map((s) => s.segment.id) } : {}),
      requireApproval: config.requireApproval,
      trackingEnabled: config.trackingEnabled,
      ...(content && config.personalOrder === true && config.trackingEnabled
        ? { personalOrder: personalOrderPlan(content, config) }
        : {}),
      ...(config.send.delivery === 'local'
        ? {
            localTime: { time: config.send.localTime, defaultTimeZone: config.timeZone },
          }
        : {}),
      ...(variants.length > 0
        ? {
            subjectTest: {
              variants,
              share: config.send.subjectTest.share,
              hours: config.send.subjectTest.hours,
            },
          }
        : {}),
    });
  }
  return { issueId: issue.id, factory };
}

/**
 * Sends a built issue: freezes its audience (if not already), then runs one worker in this process
 * until nothing is left. Running it again sends nothing new. The caller builds the issue first.
 * Throws UserError when the issue does not exist, is paused or cancelled, or a fatal SMTP error stopped it.
 */
export async function sendIssue(
  deps: SendIssueDeps,
  week: string,
  options: SendIssueOptions = {},
): Promise<SendSummary> {
  const { db, config, mailer } = deps;
  const { issueId, factory } = await beginSend(deps, week, options.messages);
  const workerId = newWorkerId();
  const heartbeat = startHeartbeat(db, { workerId, kind: 'send', issueId });
  try {
    const summary = await runWorker({
      db,
      mailer,
      ...(deps.systemMailer ? { systemMailer: deps.systemMailer } : {}),
      config,
      workerId,
      issueId,
      messages: async () => factory,
      leaveWaiting: !options.wait,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
    if (summary.fatal) throw new UserError(`send of ${week} stopped: ${summary.fatal}`);
    return summary;
  } finally {
    await heartbeat.stop();
  }
}
