import type { IssueFeedback, SegmentRating } from '../feedback/feedback.repository.ts';
import { RATING_WORDS } from '../render/feedback-words.ts';

/** "2.40" or "–" without answers. */
export function meanText(rating: SegmentRating): string {
  return rating.mean === null ? '–' : rating.mean.toFixed(2);
}

/** The feedback lines of `recap stats`: votes per story cast from the issue, ratings per segment set. */
export function formatIssueFeedback(
  feedback: IssueFeedback,
  setName: (segmentKey: string) => string = (key) => key,
): string {
  const out = ['', 'Story votes (more like this, less like this):'];
  if (feedback.votes.length === 0) out.push('  no votes yet');
  for (const vote of feedback.votes)
    out.push(
      `  ${String(vote.more).padStart(5)} ${String(vote.less).padStart(5)}  ${vote.title ?? vote.storyId}`,
    );
  out.push('', `Issue rating (${RATING_WORDS.join(' / ')}, mean of 1–3):`);
  if (feedback.total.answers === 0) out.push('  no ratings yet');
  else
    for (const rating of [...feedback.ratings, feedback.total]) {
      const name = rating === feedback.total ? 'all readers' : setName(rating.segmentKey);
      out.push(
        `  ${rating.counts.map((n) => String(n).padStart(5)).join(' ')}  mean ${meanText(rating)}  ${name}`,
      );
    }
  return `${out.join('\n')}\n`;
}
