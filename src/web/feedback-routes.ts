import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseIsoWeek, weekBounds } from '../calendar/iso-week.ts';
import {
  type FeedbackTarget,
  findFeedbackTarget,
  saveIssueRating,
  saveStoryVote,
} from '../feedback/feedback.repository.ts';
import { RATING_WORDS, STORY_VOTE_WORDS } from '../render/feedback-words.ts';
import { formatWeekRange } from '../render/week-range.ts';
import { classifyEvent } from '../tracking/classify-event.ts';
import {
  type FeedbackPayload,
  type IssueRating,
  type StoryVoteChoice,
  verifyFeedbackToken,
} from '../tracking/token.ts';
import { formStampAge, signFormStamp } from './form-stamp.ts';
import { html, type SafeHtml } from './html.ts';
import { rateLimitKey } from './rate-limiter.ts';
import { FORM_STAMP_FIELD, HONEYPOT_FIELD } from './signup-pages.ts';
import { field, invalidLinkPage, sendPage, type WebContext } from './web-context.ts';

/** Reader statuses whose answers are recorded: receiving the recap, or paused for inactivity. */
const ANSWERING = new Set(['active', 'sunset']);

type Choice = StoryVoteChoice | IssueRating;

const CHOICES: Record<'story' | 'rating', Array<{ value: string; choice: Choice; label: string }>> = {
  story: [
    { value: 'more', choice: 'more', label: STORY_VOTE_WORDS.more },
    { value: 'less', choice: 'less', label: STORY_VOTE_WORDS.less },
  ],
  rating: RATING_WORDS.map((label, index) => ({
    value: String(index + 1),
    choice: (index + 1) as IssueRating,
    label,
  })),
};

const labelOf = (kind: 'story' | 'rating', choice: Choice) =>
  CHOICES[kind].find((entry) => entry.choice === choice)?.label ?? String(choice);

/**
 * The feedback links of the recap. GET /f/:token shows what the link is about (the story, or the issue)
 * with the link's answer pre-selected and a button; it records nothing (mail gateways' link scanners
 * follow every link). POST /f/:token records the answer sent in the form (`choice`: more|less, or 1–3),
 * which may differ from the link's: one vote per reader and story, one rating per reader and issue, a
 * later answer replacing the earlier. The token in the URL is the capability; the form also carries a
 * signed stamp of when it was served and a field only bots fill in, and answers are rate-limited per IP.
 * A request a scanner makes (by the tracking's classification), a reader no longer subscribed, an
 * out-of-date form or a bad answer records nothing and says so; a forged or unknown link is a 404.
 */
// Long: the two routes share the page they show (the form, the answer on record, the thanks).
export function registerFeedbackRoutes(server: FastifyInstance, context: WebContext): void {
  const { deps, secrets, feedbackLimiter } = context;

  const weekRange = (week: string): string => {
    const parsed = parseIsoWeek(week);
    if (!parsed) return week;
    const bounds = weekBounds(parsed, deps.config.timeZone);
    return formatWeekRange(bounds.start, bounds.end, deps.config.timeZone);
  };

  const answer = (reply: FastifyReply, status: number, title: string, body: SafeHtml) =>
    sendPage(reply, status, title, body, { publicStyle: true });

  /** The form: what it is about, the choices with `selected` ticked, the button. */
  function form(
    token: string,
    payload: FeedbackPayload,
    target: FeedbackTarget,
    selected: Choice,
    options: { button: string; error?: string },
  ): SafeHtml {
    const kind = payload.kind;
    const range = weekRange(target.week);
    const about =
      kind === 'story'
        ? html`<p class="kicker">From the Weekly AI Recap, ${range}</p>
<h2>${target.story?.title ?? ''}</h2>`
        : html`<p class="kicker">The Weekly AI Recap, ${range}</p>`;
    const legend = kind === 'story' ? 'More stories like this one?' : 'How was this issue?';
    return html`${about}
${options.error ? html`<p class="error" role="alert" id="form-error">${options.error}</p>` : ''}
<form method="post" action="/f/${token}">
<input type="hidden" name="${FORM_STAMP_FIELD}" value="${signFormStamp(secrets, Date.now() / 1000)}">
<div style="position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden" aria-hidden="true"><label>Leave this empty <input type="text" name="${HONEYPOT_FIELD}" tabindex="-1" autocomplete="off" value=""></label></div>
<fieldset${options.error ? html` aria-describedby="form-error"` : ''}><legend>${legend}</legend>
${CHOICES[kind].map(
  (entry) =>
    html`<label><input type="radio" name="choice" value="${entry.value}"${entry.choice === selected ? html` checked` : ''} required> ${entry.label}</label>`,
)}
</fieldset>
<button type="submit" class="primary">${options.button}</button>
</form>`;
  }

  const privacyNote = html`<p class="muted"><small>Only your answer is stored, with your subscription, to choose the stories of the next recaps. It is deleted with your data if you ask us to. Nothing is recorded until you press the button.</small></p>`;

  /** The verified token and what it names, or the answer already sent (404 / not receiving). */
  async function resolve(
    request: FastifyRequest<{ Params: { token: string } }>,
    reply: FastifyReply,
  ): Promise<{ payload: FeedbackPayload; target: FeedbackTarget } | FastifyReply> {
    const payload = verifyFeedbackToken(secrets, request.params.token);
    if (!payload) return invalidLinkPage(reply);
    const target = await findFeedbackTarget(deps.db, {
      subscriberId: payload.subscriberId,
      issueId: payload.issueId,
      link: payload.kind === 'story' ? payload.link : null,
    });
    if (!target) return invalidLinkPage(reply);
    if (!target.reader || !ANSWERING.has(target.reader.status)) {
      return answer(
        reply,
        410,
        'Nothing was recorded',
        html`<p>This address no longer receives the Weekly AI Recap, so answers from its links are not recorded.</p>
<p><a href="/subscribe">Subscribe again</a> if you would like the recap back.</p>`,
      );
    }
    return { payload, target };
  }

  server.get<{ Params: { token: string } }>('/f/:token', async (request, reply) => {
    const resolved = await resolve(request, reply);
    if (!('payload' in resolved)) return resolved;
    const { payload, target } = resolved;
    const linked: Choice = payload.kind === 'story' ? payload.choice : payload.rating;
    const onRecord =
      target.current !== null && target.current !== linked
        ? html`<p role="status">Your answer so far: <strong>${labelOf(payload.kind, target.current)}</strong>.</p>`
        : '';
    return answer(
      reply,
      200,
      payload.kind === 'story' ? 'More or less like this?' : 'Rate this issue',
      html`${form(request.params.token, payload, target, linked, { button: 'Save my answer' })}
${onRecord}
${privacyNote}`,
    );
  });

  server.post<{ Params: { token: string } }>('/f/:token', async (request, reply) => {
    if (!feedbackLimiter.allow(rateLimitKey(request.ip))) {
      reply.header('retry-after', '600');
      return answer(reply, 429, 'Too many answers', html`<p>Please try again in a little while.</p>`);
    }
    const resolved = await resolve(request, reply);
    if (!('payload' in resolved)) return resolved;
    const { payload, target } = resolved;
    const agent = request.headers['user-agent'];
    const seen = classifyEvent(
      {
        kind: 'click',
        issueId: payload.issueId,
        subscriberId: payload.subscriberId,
        linkPosition: null,
        linkKind: 'feedback',
        method: request.method,
        ip: request.ip,
        userAgent: typeof agent === 'string' ? agent : null,
        occurredAt: new Date(),
        linksClickedWithinSecond: 1,
      },
      null,
    );
    if (seen.class !== 'human' || (field(request.body, HONEYPOT_FIELD) ?? '') !== '') {
      request.log.info({ reason: seen.reason }, 'feedback answer from a machine ignored');
      return answer(
        reply,
        403,
        'Nothing was recorded',
        html`<p>This request looked automated, so nothing was recorded. Open the link from your email in your browser and press the button.</p>`,
      );
    }
    if (formStampAge(secrets, field(request.body, FORM_STAMP_FIELD), Date.now() / 1000) === null) {
      return answer(
        reply,
        400,
        'Please use the form again',
        html`<p>This form is out of date or incomplete, so nothing was recorded. <a href="/f/${request.params.token}">Open it again</a> and send it from there.</p>`,
      );
    }
    const sent = field(request.body, 'choice');
    const chosen = CHOICES[payload.kind].find((entry) => entry.value === sent)?.choice;
    const linked: Choice = payload.kind === 'story' ? payload.choice : payload.rating;
    if (chosen === undefined) {
      return answer(
        reply,
        400,
        'Nothing was recorded',
        form(request.params.token, payload, target, linked, {
          button: 'Save my answer',
          error: `Choose one of: ${CHOICES[payload.kind].map((entry) => entry.label).join(', ')}.`,
        }),
      );
    }
    const now = new Date();
    if (payload.kind === 'story' && target.story) {
      await saveStoryVote(deps.db, {
        subscriberId: payload.subscriberId,
        storyId: target.story.id,
        issueId: payload.issueId,
        choice: chosen as StoryVoteChoice,
        now,
      });
    } else {
      await saveIssueRating(deps.db, {
        subscriberId: payload.subscriberId,
        issueId: payload.issueId,
        rating: chosen as IssueRating,
        now,
      });
    }
    return answer(
      reply,
      200,
      'Thank you',
      html`<p role="status">Your answer is saved: <strong>${labelOf(payload.kind, chosen)}</strong>. It helps choose the stories of the next recaps.</p>
${form(request.params.token, payload, target, chosen, { button: 'Change my answer' })}
${privacyNote}`,
    );
  });
}
