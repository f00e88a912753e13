import cron from 'node-cron';
import type { AlertSettings } from '../alerts/raise-alert.ts';
import { alertSourceFailing } from '../alerts/source-alert.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/database.ts';
import { UserError } from '../errors.ts';
import type { Mailer } from '../mail/mailer.ts';
import { pullAll, pullSettingsFrom } from '../stories/story-pull.ts';

/** Pulls the configured story feeds; one pull at a time in this process (a second caller joins it). */
export interface StoryPuller {
  /** Resolves with a one-line summary; never rejects for a source's fault (each failure is reported). */
  pullNow(options?: { waitForLock?: boolean }): Promise<string>;
}

/** What pulling the feeds reads: RECAP_STORIES_URL and INGEST_*, and the alerts' settings and mailer. */
export interface StoryPullDeps {
  db: Db;
  config: AlertSettings & Pick<Config, 'ingest'>;
  mailer: Mailer;
}

/** What one pull of every feed came to: the metrics' ingest runs and failures. */
export interface PullOutcome {
  sources: number;
  failed: number;
}

export function createStoryPuller(
  deps: StoryPullDeps,
  log: (line: string) => void,
  onPull?: (outcome: PullOutcome) => void,
): StoryPuller {
  let running: Promise<string> | null = null;
  const settings = pullSettingsFrom(deps.config.ingest);
  const urls = deps.config.ingest.urls;
  return {
    pullNow(options = {}) {
      if (urls.length === 0) return Promise.resolve('no story feed configured (RECAP_STORIES_URL)');
      running ??= pullAll(deps.db, urls, { ...settings, waitForLock: options.waitForLock ?? false })
        .then(async (results) => {
          const failed = results.filter((r) => r.status === 'failed' || r.status === 'refused').length;
          onPull?.({ sources: results.length, failed });
          for (const result of results) {
            if (result.status === 'failed' || result.status === 'refused') {
              log(`story feed ${result.url} ${result.status}: ${result.summary}`);
              // Once per source and day (the alerts table decides); never fails the pull.
              await alertSourceFailing(
                { db: deps.db, config: deps.config, mailer: deps.mailer, log },
                { source: result.url, error: result.summary },
              ).catch(() => {});
            }
          }
          return results.map((r) => `${r.url}: ${r.summary}`).join('; ');
        })
        .finally(() => {
          running = null;
        });
      return running;
    },
  };
}

export interface RunningPulls {
  stop(): Promise<void>;
}

/**
 * Pulls the story feeds at every fire of `expression` (RECAP_INGEST_CRON). Failures are logged and never
 * stop the next pull. Several processes may run it: a database lock keeps each source to one puller.
 */
export function startStoryPulls(options: {
  expression: string;
  timeZone: string;
  puller: StoryPuller;
  log: (line: string) => void;
}): RunningPulls {
  if (!cron.validate(options.expression))
    throw new UserError(
      `RECAP_INGEST_CRON: "${options.expression}" is not a valid cron expression (e.g. "*/15 * * * *")`,
    );
  let current: Promise<unknown> = Promise.resolve();
  const task = cron.schedule(
    options.expression,
    () => {
      current = options.puller
        .pullNow()
        .then((summary) => options.log(`pulled the story feeds: ${summary}`))
        .catch((error) =>
          options.log(
            `pulling the story feeds failed: ${error instanceof Error ? error.message : String(error)}`,
          ),
        );
    },
    { timezone: options.timeZone, name: 'recap-ingest' },
  );
  return {
    async stop() {
      await task.destroy();
      await current;
    },
  };
}
