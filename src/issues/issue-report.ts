import type { Selection } from '../selection/selection.ts';
import type { IssueStoryUpdate } from './issue-content.ts';

/** One picked story as `recap issue build --json` prints it. */
export interface ReportStory {
  id: string;
  title: string;
  score: number;
  fallback: boolean;
  alsoCoveredBy: string[];
  reasons: string[];
  scoreBreakdown: Record<string, number>;
  /** What the story continues, when it is an update (docs/selection.md, "Updates across weeks"). */
  update?: IssueStoryUpdate;
}

/** A story that competed and lost, with why. */
export interface ReportCandidate {
  id: string;
  title: string;
  score: number;
  reasons: string[];
}

export interface SegmentReport {
  segment: string;
  skipped: boolean;
  skipReason?: string;
  stories: ReportStory[];
  candidates?: ReportCandidate[];
}

/** The explanation of a week's selection: the JSON of `recap issue build --json`, also kept on the issue. */
export interface IssueReport {
  week: string;
  segments: SegmentReport[];
  notes?: string[];
}

const round = (value: number) => Math.round(value * 1000) / 1000;

/** The report of a selection: scores rounded to three decimals, skip reasons and candidates only when present. */
export function selectionReport(selection: Selection): IssueReport {
  return {
    week: selection.week,
    segments: selection.segments.map((segment) => ({
      segment: segment.segment.name,
      skipped: segment.skipped,
      ...(segment.skipReason ? { skipReason: segment.skipReason } : {}),
      stories: segment.stories.map((item) => ({
        id: item.story.id,
        title: item.story.title,
        score: round(item.score),
        fallback: item.fallback,
        alsoCoveredBy: item.alsoCoveredBy,
        reasons: item.reasons,
        scoreBreakdown: Object.fromEntries(
          Object.entries(item.scoreBreakdown).map(([part, value]) => [part, round(value)]),
        ),
        ...(item.update ? { update: item.update } : {}),
      })),
      ...(segment.candidates.length > 0
        ? {
            candidates: segment.candidates.map((c) => ({
              id: c.story.id,
              title: c.story.title,
              score: round(c.score),
              reasons: c.reasons,
            })),
          }
        : {}),
    })),
    ...(selection.notes.length > 0 ? { notes: selection.notes } : {}),
  };
}

/** A plain-text table of a report for the terminal: one block per segment, one line per story. */
export function formatReport(report: IssueReport, status?: string): string {
  const lines = [`Issue ${report.week}${status ? ` (${status})` : ''}`];
  for (const segment of report.segments) {
    lines.push('', `${segment.segment}${segment.skipped ? ` — skipped: ${segment.skipReason ?? ''}` : ''}`);
    if (segment.stories.length === 0) continue;
    lines.push(`  ${'#'.padEnd(3)}${'score'.padEnd(7)}${'story'.padEnd(52)}why`);
    segment.stories.forEach((story, index) => {
      const title = story.title.length > 50 ? `${story.title.slice(0, 49)}…` : story.title;
      const mark = story.fallback ? '*' : ' ';
      lines.push(
        `  ${String(index + 1).padEnd(3)}${story.score.toFixed(3).padEnd(7)}${`${mark}${title}`.padEnd(52)}${story.reasons.join('; ')}`,
      );
    });
  }
  if (report.segments.some((s) => s.stories.some((story) => story.fallback)))
    lines.push('', '* fallback: not tagged for the segment');
  for (const note of report.notes ?? []) lines.push(`note: ${note}`);
  return lines.join('\n');
}
