import type { AudienceCounts } from '../db/database.ts';
import { loadAudienceCounts } from '../issues/issue.repository.ts';
import type { MessageFactory } from './message-factory.ts';
import { beginSend, newWorkerId, runWorker, type SendIssueDeps } from './send-issue.ts';
import { pendingDecisionAt } from './subject-test.repository.ts';
import { aliveWorkers, startHeartbeat } from './worker-heartbeat.repository.ts';

/** What the editor's Start and Resume do beyond the issue's state: freeze the send and see it drained. */
export interface EditorSender {
  /**
   * Starts the send of a built issue (content and audience frozen, as `recap send` does) and, when no
   * worker is alive, drains it with a worker in this process. Throws UserError as beginSend does.
   */
  start(week: string): Promise<{ audience: AudienceCounts | null; inProcessWorker: boolean }>;
  /** After a resume: drains the issue in this process when no worker is alive. Returns whether it does. */
  drain(week: string): Promise<boolean>;
  /** Stops this process's workers after the messages in flight. */
  close(): Promise<void>;
}

/**
 * The sender behind the editor's send buttons. Its workers write heartbeats of kind 'serve'; a worker
 * elsewhere (`recap worker --follow`, the schedule) that is alive takes the send instead.
 */
export function createEditorSender(deps: SendIssueDeps & { log?: (line: string) => void }): EditorSender {
  const controller = new AbortController();
  const running = new Map<number, Promise<void>>();

  async function drainIssue(issueId: number, factory: MessageFactory): Promise<boolean> {
    if (running.has(issueId)) return true;
    if ((await aliveWorkers(deps.db)).length > 0) return false;
    // A subject test's rest goes out hours later: the server stays for it (a local-time rollout it leaves).
    const testing = (await pendingDecisionAt(deps.db, issueId)) !== null;
    const workerId = newWorkerId();
    const heartbeat = startHeartbeat(deps.db, { workerId, kind: 'serve', issueId });
    const work = runWorker({
      db: deps.db,
      mailer: deps.mailer,
      ...(deps.systemMailer ? { systemMailer: deps.systemMailer } : {}),
      config: deps.config,
      workerId,
      issueId,
      messages: async () => factory,
      leaveWaiting: !testing,
      signal: controller.signal,
      ...(deps.log ? { log: deps.log } : {}),
    })
      .then((summary) => {
        if (summary.fatal) deps.log?.(`send of issue ${issueId} stopped: ${summary.fatal}`);
      })
      .catch((error: unknown) => deps.log?.(`send of issue ${issueId} stopped: ${String(error)}`))
      .finally(async () => {
        await heartbeat.stop();
        running.delete(issueId);
      });
    running.set(issueId, work);
    return true;
  }

  return {
    async start(week) {
      const { issueId, factory } = await beginSend(deps, week);
      const inProcessWorker = await drainIssue(issueId, factory);
      return { audience: await loadAudienceCounts(deps.db, issueId), inProcessWorker };
    },
    async drain(week) {
      const { issueId, factory } = await beginSend(deps, week);
      return drainIssue(issueId, factory);
    },
    async close() {
      controller.abort();
      await Promise.all(running.values());
    },
  };
}
