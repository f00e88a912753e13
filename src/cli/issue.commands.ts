import { type Command, Option } from 'commander';
import { UserError } from '../errors.ts';
import {
  approveIssue,
  getIssue,
  IssueStateError,
  listIssues,
  loadSelectionReport,
} from '../issues/issue.repository.ts';
import {
  boostStory,
  clearOverrides,
  dropStory,
  listOverrides,
  pinStory,
} from '../issues/issue-overrides.repository.ts';
import { formatReport, type IssueReport } from '../issues/issue-report.ts';
import type { Segment } from '../stories/segment.ts';
import { findStory, listSegments } from '../stories/story.repository.ts';
import { writeOut } from '../terminal-output.ts';
import { type App, withApp } from './app.ts';
import { checkWeekOption, resolveWeek } from './week-option.ts';

const DEFAULT_BOOST = 0.2;

/** `recap issue build|show|list|pin|drop|boost|clear|approve` */
// Long: the table of `recap issue …` subcommands; each action is short and reads best beside its options.
export function registerIssueCommands(program: Command): void {
  const issue = program.command('issue').description("build, inspect, adjust and approve a week's issue");
  const weekOption = () =>
    new Option('--week <YYYY-Www>', 'ISO week (default: the current week in RECAP_TZ)');
  const segmentOption = () =>
    new Option('--segment <name-or-slug>', 'only this segment (default: every segment)');

  issue
    .command('build')
    .description(
      "select the week's stories per segment and store the issue (a draft is rebuilt; an approved issue is frozen)",
    )
    .addOption(weekOption())
    .option('--json', 'print the selection and its explanation as JSON')
    .action((options: { week?: string; json?: boolean }) =>
      withWeek(options.week, async (app) => {
        const week = resolveWeek(options.week, app.config.timeZone).key;
        const build = await runBuild(app, week);
        if (options.json) {
          writeOut(`${JSON.stringify(build.report, null, 2)}\n`);
          return;
        }
        const summary = await getIssue(app.db, week);
        writeOut(`${formatReport(build.report, summary?.status)}\n`);
        if (!build.rebuilt)
          writeOut(`\nissue ${week} is ${summary?.status}: selection frozen, not rebuilt\n`);
      }),
    );

  issue
    .command('show')
    .description('print the stored issue, its explanation and the editor overrides')
    .addOption(weekOption())
    .option('--json', 'print the stored explanation as JSON')
    .action((options: { week?: string; json?: boolean }) =>
      withWeek(options.week, async (app) => {
        const week = resolveWeek(options.week, app.config.timeZone).key;
        const summary = await getIssue(app.db, week);
        if (!summary) throw new UserError(`no issue for ${week} yet; run: recap issue build --week ${week}`);
        const report = (await loadSelectionReport(app.db, week)) as IssueReport | null;
        if (options.json) {
          writeOut(`${JSON.stringify(report, null, 2)}\n`);
          return;
        }
        if (report) writeOut(`${formatReport(report, summary.status)}\n`);
        else writeOut(`Issue ${week} (${summary.status}): not built yet\n`);
        const overrides = await listOverrides(app.db, week);
        const segments = await listSegments(app.db);
        const segmentName = (id: number | null) =>
          id === null ? 'every segment' : (segments.find((s) => s.id === id)?.name ?? `#${id}`);
        if (overrides.length > 0) writeOut('\nEditor overrides:\n');
        for (const o of overrides) {
          const detail =
            o.kind === 'pin'
              ? ` at position ${(o.position ?? 0) + 1}`
              : o.kind === 'boost'
                ? ` by ${o.boost}`
                : '';
          writeOut(`  ${o.kind} ${o.storyId}${detail} (${segmentName(o.segmentId)})\n`);
        }
      }),
    );

  issue
    .command('list')
    .description('list issues with status and counts')
    .action(() =>
      withApp(async (app) => {
        const issues = await listIssues(app.db);
        if (issues.length === 0) writeOut('no issues yet\n');
        for (const i of issues) {
          writeOut(
            `${i.week}  ${i.status.padEnd(9)} ${String(i.itemCount).padStart(3)} stories in ${i.segmentCount} segments, ${i.overrideCount} overrides\n`,
          );
        }
      }),
    );

  issue
    .command('pin')
    .description('always include a story (and its event), at a position')
    .argument('<story-id>')
    .addOption(weekOption())
    .addOption(segmentOption())
    .option('--position <n>', '1 = first (default 1)')
    .action((storyId: string, options: { week?: string; segment?: string; position?: string }) =>
      withWeek(options.week, async (app) => {
        const target = await resolveTarget(app, options.week, options.segment, storyId);
        const position =
          options.position === undefined ? 0 : positiveInteger(options.position, '--position') - 1;
        await editorAction(() => pinStory(app.db, { ...target, position }));
        await report(app, target.week, `pinned ${storyId} at position ${position + 1} in ${target.scope}`);
      }),
    );

  issue
    .command('drop')
    .description('never include a story (nor its event)')
    .argument('<story-id>')
    .addOption(weekOption())
    .addOption(segmentOption())
    .action((storyId: string, options: { week?: string; segment?: string }) =>
      withWeek(options.week, async (app) => {
        const target = await resolveTarget(app, options.week, options.segment, storyId);
        await editorAction(() => dropStory(app.db, target));
        await report(app, target.week, `dropped ${storyId} from ${target.scope}`);
      }),
    );

  issue
    .command('boost')
    .description("add to a story's score")
    .argument('<story-id>')
    .addOption(weekOption())
    .addOption(segmentOption())
    .option('--by <amount>', `added to the score, may be negative (default ${DEFAULT_BOOST})`)
    .action((storyId: string, options: { week?: string; segment?: string; by?: string }) =>
      withWeek(options.week, async (app) => {
        const target = await resolveTarget(app, options.week, options.segment, storyId);
        const boost = options.by === undefined ? DEFAULT_BOOST : Number(options.by);
        if (!Number.isFinite(boost) || Math.abs(boost) > 10) {
          throw new UserError(`--by: expected a number between -10 and 10 (got "${options.by}")`);
        }
        await editorAction(() => boostStory(app.db, { ...target, boost }));
        await report(app, target.week, `boosted ${storyId} by ${boost} in ${target.scope}`);
      }),
    );

  issue
    .command('clear')
    .description("remove the editor's overrides of a week (all, or one story's)")
    .argument('[story-id]')
    .addOption(weekOption())
    .addOption(segmentOption())
    .action((storyId: string | undefined, options: { week?: string; segment?: string }) =>
      withWeek(options.week, async (app) => {
        const week = resolveWeek(options.week, app.config.timeZone).key;
        const segment =
          options.segment === undefined ? undefined : (await resolveSegment(app, options.segment)).id;
        const removed = await editorAction(() =>
          clearOverrides(app.db, {
            week,
            ...(storyId ? { storyId } : {}),
            ...(segment !== undefined ? { segmentId: segment } : {}),
          }),
        );
        await report(app, week, `removed ${removed} override${removed === 1 ? '' : 's'}`);
      }),
    );

  issue
    .command('approve')
    .description("freeze the week's selection for sending")
    .addOption(weekOption())
    .action((options: { week?: string }) =>
      withWeek(options.week, async (app) => {
        const week = resolveWeek(options.week, app.config.timeZone).key;
        const summary = await editorAction(() => approveIssue(app.db, week, new Date(), app.config.timeZone));
        writeOut(
          `issue ${week} is ${summary.status}: ${summary.itemCount} stories in ${summary.segmentCount} segments\n`,
        );
      }),
    );
}

/** Runs a command body with the app, after checking the --week option if one was given. */
async function withWeek<T>(week: string | undefined, body: (app: App) => Promise<T>): Promise<T> {
  checkWeekOption(week);
  return withApp(body);
}

async function resolveSegment(app: App, nameOrSlug: string): Promise<Segment> {
  const segments = await listSegments(app.db);
  const wanted = nameOrSlug.trim().toLowerCase();
  const segment = segments.find((s) => s.slug === wanted || s.name.toLowerCase() === wanted);
  if (!segment) {
    throw new UserError(
      `--segment: unknown segment "${nameOrSlug}" (known: ${segments.map((s) => s.slug).join(', ') || 'none'})`,
    );
  }
  return segment;
}

async function resolveTarget(
  app: App,
  week: string | undefined,
  segment: string | undefined,
  storyId: string,
) {
  const resolvedWeek = resolveWeek(week, app.config.timeZone).key;
  const story = await findStory(app.db, storyId);
  if (!story) throw new UserError(`unknown story "${storyId}"`);
  const resolved = segment === undefined ? null : await resolveSegment(app, segment);
  return {
    week: resolvedWeek,
    storyId,
    segmentId: resolved?.id ?? null,
    scope: resolved ? resolved.name : 'every segment',
  };
}

function positiveInteger(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UserError(`${name}: expected a whole number from 1 (got "${value}")`);
  return n;
}

/** Runs an editor operation, turning "the issue is frozen" into a one-line user error. */
async function editorAction<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof IssueStateError) throw new UserError(error.message);
    throw error;
  }
}

async function runBuild(app: App, week: string) {
  const { buildIssue, buildSettingsOf } = await import('../issues/build-issue.ts');
  return buildIssue(app.db, { ...buildSettingsOf(app.config), week, now: new Date() });
}

/** After an override: rebuild a draft that exists so the stored issue and preview show the change at once. */
async function report(app: App, week: string, done: string): Promise<void> {
  const summary = await getIssue(app.db, week);
  if (summary?.status === 'draft') {
    await runBuild(app, week);
    writeOut(`${done} for ${week}; issue rebuilt\n`);
  } else {
    writeOut(`${done} for ${week}; applies at the next: recap issue build --week ${week}\n`);
  }
}
