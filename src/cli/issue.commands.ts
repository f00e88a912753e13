import { type Command, Option } from 'commander';
import { UserError } from '../errors.ts';
import { getIssue, IssueStateError, listIssues, loadSelectionReport } from '../issues/issue.repository.ts';
import type { IssueContent } from '../issues/issue-content.ts';
import { approveIssue, unapproveIssue } from '../issues/issue-lifecycle.ts';
import {
  boostStory,
  clearOverrides,
  dropStory,
  listOverrides,
  pinStory,
} from '../issues/issue-overrides.repository.ts';
import { formatReport, type IssueReport } from '../issues/issue-report.ts';
import { loadIssueWriting, saveIssueWriting } from '../issues/issue-writing.repository.ts';
import { checkHeaderLine, checkNote, type IssueWriting } from '../issues/issue-writing.ts';
import { saveSubjectVariant } from '../issues/subject-variants.repository.ts';
import type { Segment } from '../stories/segment.ts';
import { findStory, listSegments } from '../stories/story.repository.ts';
import { writeErr, writeOut } from '../terminal-output.ts';
import { type App, withApp } from './app.ts';
import { checkWeekOption, describeWeek, resolveWeek, WEEK_OPTION_HELP } from './week-option.ts';

const DEFAULT_BOOST = 0.2;

/** `recap issue build|show|list|pin|drop|boost|clear|note|subject|approve|unapprove` */
// Long: the table of `recap issue …` subcommands; each action is short and reads best beside its options.
export function registerIssueCommands(program: Command): void {
  const issue = program.command('issue').description("build, inspect, adjust and approve a week's issue");
  const weekOption = () => new Option('--week <YYYY-Www>', WEEK_OPTION_HELP);
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
        const resolved = resolveWeek(options.week, app.config);
        const week = resolved.key;
        // With --json the week line goes to standard error, so standard output stays one JSON document.
        (options.json ? writeErr : writeOut)(`${describeWeek(resolved)}\n`);
        const build = await runBuild(app, week);
        const shortfall = segmentShortfall(build.content, app.config.selection.minStoriesPerSegment);
        if (options.json) writeOut(`${JSON.stringify(build.report, null, 2)}\n`);
        else {
          const summary = await getIssue(app.db, week);
          writeOut(`${formatReport(build.report, summary?.status)}\n`);
          if (!build.rebuilt)
            writeOut(`\nissue ${week} is ${summary?.status}: selection frozen, not rebuilt\n`);
        }
        for (const line of shortfall.lines) writeErr(`${line}\n`);
        if (shortfall.allEmpty)
          throw new UserError(
            `issue ${week} has no stories in any segment: import stories for ${week} (recap import stories FILE), then build again`,
          );
      }),
    );

  issue
    .command('show')
    .description('print the stored issue, its explanation and the editor overrides')
    .addOption(weekOption())
    .option('--json', 'print the stored explanation as JSON')
    .action((options: { week?: string; json?: boolean }) =>
      withWeek(options.week, async (app) => {
        const week = resolveWeek(options.week, app.config).key;
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
          writeOut(
            `  ${o.kind} ${o.storyId}${detail} (${segmentName(o.segmentId)}; ${o.createdBy ?? 'unknown'}, ${o.createdAt.toISOString().slice(0, 16).replace('T', ' ')} UTC)\n`,
          );
        }
        writeOut(formatWriting(await loadIssueWriting(app.db, week)));
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
        await editorAction(() => pinStory(app.db, { ...target, position, createdBy: 'cli' }));
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
        await editorAction(() => dropStory(app.db, { ...target, createdBy: 'cli' }));
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
        await editorAction(() => boostStory(app.db, { ...target, boost, createdBy: 'cli' }));
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
        const week = resolveWeek(options.week, app.config).key;
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

  registerWritingCommands(issue, weekOption);

  issue
    .command('approve')
    .description("freeze the week's selection for sending (refused while a segment has no stories)")
    .addOption(weekOption())
    .option('--allow-empty', 'approve although some segments have no stories (they are left out)')
    .option('--reason <text>', 'why empty segments are acceptable (kept with the issue)')
    .action((options: { week?: string; allowEmpty?: boolean; reason?: string }) =>
      withWeek(options.week, async (app) => {
        const resolved = resolveWeek(options.week, app.config);
        const week = resolved.key;
        writeOut(`${describeWeek(resolved)}\n`);
        const summary = await approveIssue(app.db, week, {
          now: new Date(),
          timeZone: app.config.timeZone,
          allowEmpty: Boolean(options.allowEmpty),
          ...(options.reason !== undefined ? { reason: options.reason } : {}),
        });
        writeOut(
          `issue ${week} is ${summary.status}: ${summary.itemCount} stories in ${summary.segmentCount} segments\n`,
        );
      }),
    );

  issue
    .command('unapprove')
    .description('return an approved issue to draft (until its send starts), so it can be rebuilt')
    .addOption(weekOption())
    .action((options: { week?: string }) =>
      withWeek(options.week, async (app) => {
        const resolved = resolveWeek(options.week, app.config);
        writeOut(`${describeWeek(resolved)}\n`);
        await unapproveIssue(app.db, resolved.key);
        writeOut(
          `issue ${resolved.key} is a draft again: rebuild it with "recap issue build --week ${resolved.key}"\n`,
        );
      }),
    );
}

/** The note, subject and preheader lines of `recap issue show` (nothing when none was written). */
function formatWriting(writing: IssueWriting): string {
  const lines = [
    writing.subject ? `  subject: ${writing.subject}` : null,
    writing.preheader ? `  preheader: ${writing.preheader}` : null,
    writing.note
      ? `  note: ${writing.note
          .split('\n')
          .map((line, index) => (index === 0 || line === '' ? line : `        ${line}`))
          .join('\n')}`
      : null,
  ].filter((line): line is string => line !== null);
  return lines.length > 0 ? `\nWriting:\n${lines.join('\n')}\n` : '';
}

/** `recap issue note` and `recap issue subject`: what the editor writes, frozen with the issue at approval. */
function registerWritingCommands(issue: Command, weekOption: () => Option): void {
  issue
    .command('note')
    .description(
      "set the editor's note shown above the first section of every edition (plain text, links allowed)",
    )
    .argument(
      '[text]',
      'the note; blank lines separate paragraphs; http(s) URLs and [text](url) become links',
    )
    .addOption(weekOption())
    .option('--clear', 'remove the note')
    .action((text: string | undefined, options: { week?: string; clear?: boolean }) =>
      withWeek(options.week, async (app) => {
        const week = resolveWeek(options.week, app.config).key;
        const checked = checkNote(writingArgument(text, options.clear, 'note'));
        if (!checked.ok) throw new UserError(checked.error);
        await editorAction(() => saveIssueWriting(app.db, week, { note: checked.value }, 'cli'));
        writeOut(checked.value === null ? `note of ${week} removed\n` : `note of ${week} saved\n`);
      }),
    );

  issue
    .command('subject')
    .description('set the subject (and preheader) of every edition of the week, instead of the computed ones')
    .argument('[text]', 'the subject line')
    .addOption(weekOption())
    .option('--preheader <text>', 'the preview text shown after the subject (default: the computed one)')
    .option('--clear', 'go back to the computed subject and preheader (with --variant: remove that variant)')
    .addOption(
      new Option(
        '--variant <B|C>',
        'a subject variant for a subject test (variant A is the subject without one); its text applies to every segment set',
      ).choices(['B', 'C']),
    )
    .action(
      (
        text: string | undefined,
        options: { week?: string; clear?: boolean; preheader?: string; variant?: 'B' | 'C' },
      ) =>
        withWeek(options.week, async (app) => {
          const week = resolveWeek(options.week, app.config).key;
          if (options.clear && options.preheader !== undefined)
            throw new UserError('--clear: give either a subject (with --preheader) or --clear, not both');
          const subject = checkHeaderLine(writingArgument(text, options.clear, 'subject'), 'subject');
          if (!subject.ok) throw new UserError(subject.error);
          const preheader = checkHeaderLine(options.preheader ?? '', 'preheader');
          if (!preheader.ok) throw new UserError(preheader.error);
          if (!options.clear && subject.value === null)
            throw new UserError(
              'recap issue subject: the subject is empty (use --clear for the computed one)',
            );
          if (options.variant) {
            await saveVariant(app, week, options.variant, subject.value, preheader.value);
            return;
          }
          await editorAction(() =>
            saveIssueWriting(app.db, week, { subject: subject.value, preheader: preheader.value }, 'cli'),
          );
          writeOut(
            subject.value === null
              ? `subject of ${week}: computed per segment set again\n`
              : `subject of ${week}: ${subject.value}${preheader.value ? `\npreheader: ${preheader.value}` : ''}\n`,
          );
        }),
    );
}

/** `recap issue subject --variant B|C`: sets (or, with a null subject, removes) a subject test's variant. */
async function saveVariant(
  app: App,
  week: string,
  variant: 'B' | 'C',
  subject: string | null,
  preheader: string | null,
): Promise<void> {
  const variants = await editorAction(() =>
    saveSubjectVariant(app.db, week, variant, subject === null ? null : { subject, preheader }, 'cli'),
  );
  writeOut(
    subject === null
      ? `subject variant ${variant} of ${week} removed${variants.length === 0 ? ': no subject test' : ''}\n`
      : `subject variant ${variant} of ${week}: ${subject}${preheader ? `\npreheader: ${preheader}` : ''}\n` +
          `subject test of ${week}: variants ${['A', ...variants.map((v) => v.variant)].join(', ')}\n`,
  );
}

/** The text argument of `note`/`subject`, or '' with --clear; exactly one of the two. */
function writingArgument(text: string | undefined, clear: boolean | undefined, what: string): string {
  if (clear && text !== undefined)
    throw new UserError(`recap issue ${what}: give either TEXT or --clear, not both`);
  if (!clear && text === undefined)
    throw new UserError(`recap issue ${what}: give the ${what} text, or --clear`);
  return clear ? '' : (text as string);
}

/**
 * The segments a build left empty or short of MIN_STORIES_PER_SEGMENT, one line each, and whether every
 * segment is empty (a week without stories).
 */
function segmentShortfall(content: IssueContent, minStories: number): { lines: string[]; allEmpty: boolean } {
  const lines: string[] = [];
  for (const section of content.sections) {
    const count = section.stories.length;
    if (count === 0)
      lines.push(`empty segment: ${section.segment.name} (${section.skipReason ?? 'no stories'})`);
    else if (count < minStories)
      lines.push(
        `short segment: ${section.segment.name} has ${count} ${count === 1 ? 'story' : 'stories'}, under MIN_STORIES_PER_SEGMENT (${minStories})`,
      );
  }
  return { lines, allEmpty: content.sections.every((section) => section.stories.length === 0) };
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
  const resolvedWeek = resolveWeek(week, app.config).key;
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
