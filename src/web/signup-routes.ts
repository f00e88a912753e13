import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseIsoWeek, weekBounds } from '../calendar/iso-week.ts';
import { listArchivedIssues } from '../delivery/delivery.repository.ts';
import type { RenderedMessage } from '../render/rendered-message.ts';
import { formatWeekRange } from '../render/week-range.ts';
import type { Segment } from '../stories/segment.ts';
import { listSegments } from '../stories/story.repository.ts';
import { toEmailAddress } from '../subscribers/email-address.ts';
import { confirmSignUp, releaseConfirmationSlot, requestSignUp } from '../subscribers/sign-up.ts';
import { findSubscriber, followedSegmentNames } from '../subscribers/subscriber.repository.ts';
import { signToken, verifyToken } from '../tracking/token.ts';
import { publicIssuePath } from './archive-pages.ts';
import { publicSiteOf } from './archive-routes.ts';
import { formStampAge, signFormStamp } from './form-stamp.ts';
import { html, type PageOptions, type SafeHtml } from './html.ts';
import { rateLimitKey } from './rate-limiter.ts';
import { securityHeaders } from './security-headers.ts';
import {
  checkInboxBody,
  FORM_CONSENT_TEXT,
  FORM_STAMP_FIELD,
  HONEYPOT_FIELD,
  type ResendFields,
  SEGMENTS_SHOWN_FIELD,
  SIGNUP_TRACKING_TEXT,
  type SignUpFormState,
  signUpBody,
  signUpPath,
} from './signup-pages.ts';
import {
  consentContext,
  fields,
  invalidLinkPage,
  mailSystemMessage,
  maskEmail,
  renderSystemMail,
  sendPage,
  sendSystemMail,
  type WebContext,
} from './web-context.ts';

/** Confirmation links stay valid this long. */
export const CONFIRM_TTL_SECONDS = 7 * 24 * 3600;
const CONFIRM_QUESTION = 'Confirm your subscription';
/** Longest address text repeated on "Check your inbox" (RFC 5321's limit). */
const MAX_ADDRESS_TEXT = 254;

/**
 * Double opt-in. GET /subscribe: what the recap is (RECAP_DESCRIPTION, the day from RECAP_CRON, the
 * latest issue, the privacy line and PRIVACY_URL) and the form, with a honeypot field and a signed time
 * stamp. POST /subscribe (email, segment ids or slugs, the stamp): creates a pending subscriber, records
 * what was shown, and mails the confirmation link after the answer has gone out, at most once per
 * address per SIGNUP_CONFIRM_INTERVAL; a confirmation the mailer does not take gives that slot back, so
 * the person may try again at once. The answer ("Check your inbox": the address, the sender, a spam
 * hint, a resend button posting the same request) is the same whatever the address's state (new,
 * pending, active, suppressed, throttled) and for a filled honeypot or a form sent faster than
 * SIGNUP_MIN_FILL_SECONDS (then nothing is stored or mailed); only a confirmation that cannot even be
 * rendered gets a 503 page (and its slot back). An address the strict parser refuses, and a form that
 * listed topics (segments_shown) with none ticked, get the form again with the error (400); a missing or
 * expired stamp gets 400. `?embed=1`: the same pages, compact, framable by SIGNUP_EMBED_ANCESTORS.
 * Rate-limited per IP in this process. GET /confirm/:token shows a button (link scanners fetch every
 * link); POST /confirm/:token activates.
 */
// Long: the sign-up route table (form, submit, confirm) and the welcome mail they share.
export function registerSignUpRoutes(server: FastifyInstance, context: WebContext): void {
  const { deps, secrets, signUpLimiter } = context;
  const { confirmIntervalSeconds, minFillSeconds } = deps.config.signUp;
  // Confirmation mails go out after their answer; closing the server waits for them.
  const mailing = new Set<Promise<void>>();
  server.addHook('onClose', async () => {
    await Promise.allSettled([...mailing]);
  });
  const afterAnswer = (reply: FastifyReply, work: () => Promise<void>) => {
    reply.raw.once('close', () => {
      const running = work().finally(() => mailing.delete(running));
      mailing.add(running);
    });
  };
  const { embedAncestors, privacyUrl, archivePublic } = deps.config.publicPages;
  const isEmbed = (request: FastifyRequest<{ Querystring: { embed?: string } }>) =>
    request.query.embed === '1';

  /** A page of the sign-up; the embedded one may be framed by SIGNUP_EMBED_ANCESTORS and is compact. */
  const answer = (
    reply: FastifyReply,
    status: number,
    embed: boolean,
    title: string,
    body: SafeHtml,
    options: PageOptions = {},
  ) => {
    if (embed) {
      reply
        .header(
          'content-security-policy',
          securityHeaders['content-security-policy']?.replace(
            "frame-ancestors 'self'",
            `frame-ancestors ${embedAncestors}`,
          ),
        )
        .removeHeader('x-frame-options');
    }
    return sendPage(reply, status, title, body, { ...options, compact: embed, publicStyle: true });
  };

  const signUpPage = async (
    reply: FastifyReply,
    status: number,
    embed: boolean,
    segments: readonly Segment[],
    state: SignUpFormState,
  ) => {
    const site = publicSiteOf(context);
    const body = signUpBody({ site, privacyUrl, latest: await latestIssue(), embed }, segments, state);
    const title = `Subscribe to ${site.name}`;
    return answer(reply, status, embed, title, body, {
      // The standalone page is the recap's landing page; the embedded copy belongs to the host's page.
      indexable: archivePublic && !embed && status === 200,
      head: html`<link rel="canonical" href="${site.publicUrl}/subscribe">
<meta name="description" content="${site.description}">
<meta property="og:title" content="${title}">
<meta property="og:description" content="${site.description}">
<meta property="og:url" content="${site.publicUrl}/subscribe">
<meta property="og:type" content="website">
`,
    });
  };

  const checkInbox = (reply: FastifyReply, embed: boolean, request: ResendFields, resent: boolean) => {
    const { sender } = deps.config;
    return answer(
      reply,
      200,
      embed,
      'Check your inbox',
      checkInboxBody(
        { name: sender.name, email: sender.email, subject: confirmSubject() },
        confirmIntervalSeconds,
        request,
        { embed, resent },
      ),
    );
  };

  /** The newest issue a visitor can read, for "Read the latest issue". */
  async function latestIssue(): Promise<{ path: string; weekRange: string } | null> {
    const { issues } = await listArchivedIssues(deps.db, ['sending', 'sent'], { limit: 1, offset: 0 });
    const week = issues[0] && parseIsoWeek(issues[0].week);
    if (!issues[0] || !week) return null;
    const bounds = weekBounds(week, deps.config.timeZone);
    return {
      path: publicIssuePath(issues[0].week),
      weekRange: formatWeekRange(bounds.start, bounds.end, deps.config.timeZone),
    };
  }

  let confirmSubjectLine: string | null | undefined;
  /** The confirmation mail's subject, so "Check your inbox" can say what to look for. */
  function confirmSubject(): string | null {
    if (confirmSubjectLine === undefined) {
      try {
        confirmSubjectLine = renderSystemMail(context, 'confirm', {
          confirm_url: `${deps.config.publicUrl}/confirm/x`,
          segments: 'every topic',
        }).subject;
      } catch {
        confirmSubjectLine = null; // the sign-up itself reports a template that cannot render
      }
    }
    return confirmSubjectLine;
  }

  async function sendWelcome(subscriberId: string, preferencesToken: string, log: FastifyRequest['log']) {
    const subscriber = await findSubscriber(deps.db, subscriberId);
    if (!subscriber) return;
    const segments = await followedSegmentNames(deps.db, subscriberId);
    await sendSystemMail(
      context,
      log,
      'welcome',
      { subscriberId, email: subscriber.email },
      {
        archive_url: `${deps.config.publicUrl}/archive`,
        preferences_url: `${deps.config.publicUrl}/p/${preferencesToken}`,
        segments: segmentList(segments),
      },
    );
  }

  server.get<{ Querystring: { embed?: string } }>('/subscribe', async (request, reply) => {
    const embed = isEmbed(request);
    const state: SignUpFormState = {
      stamp: signFormStamp(secrets, Date.now() / 1000),
      email: '',
      tracking: false,
    };
    return signUpPage(reply, 200, embed, await listSegments(deps.db), state);
  });

  server.post<{ Querystring: { embed?: string } }>('/subscribe', async (request, reply) => {
    const embed = isEmbed(request);
    if (!signUpLimiter.allow(rateLimitKey(request.ip))) {
      reply.header('retry-after', '600');
      return answer(reply, 429, embed, 'Too many attempts', html`<p>Please try again in a little while.</p>`);
    }
    const stamp = fields(request.body, FORM_STAMP_FIELD)[0];
    const age = formStampAge(secrets, stamp, Date.now() / 1000);
    if (age === null || stamp === undefined)
      return answer(
        reply,
        400,
        embed,
        'Please use the form again',
        html`<p>This form is out of date or incomplete. <a href="${signUpPath(embed)}">Open it again</a> and send it from there.</p>`,
      );
    const emailText = (fields(request.body, 'email')[0] ?? '').trim();
    const wanted = [...fields(request.body, 'segment'), ...fields(request.body, 'segments')].flatMap(
      (value) => value.split(','),
    );
    const segmentsShown = fields(request.body, SEGMENTS_SHOWN_FIELD)[0] === 'yes';
    // Consent is a box the person ticked (CJEU Planet49): a call that never showed the choice (an API,
    // an old form) is untracked, whatever TRACKING_DEFAULT says (that applies to CSV imports only).
    const trackingShown = fields(request.body, 'tracking_shown')[0] === 'yes';
    const tracking = trackingShown && fields(request.body, 'tracking')[0] === 'yes';
    const honeypot = fields(request.body, HONEYPOT_FIELD)[0] ?? '';
    const resend: ResendFields = {
      email: emailText.slice(0, MAX_ADDRESS_TEXT),
      stamp,
      segments: wanted.slice(0, 50),
      segmentsShown,
      tracking,
      honeypot: honeypot.slice(0, 200),
    };
    const resent = fields(request.body, 'resend')[0] === 'yes';
    // A bot: it filled the field people never see, or sent the form faster than a person can. It gets
    // the usual answer, so it learns nothing; nothing is stored or mailed.
    if (honeypot !== '' || age < minFillSeconds) {
      request.log.info({ honeypot: age >= minFillSeconds, age }, 'sign-up form bot ignored');
      return checkInbox(reply, embed, resend, resent);
    }
    const known = await listSegments(deps.db);
    const email = toEmailAddress(emailText);
    const formError = (field: 'email' | 'segment', message: string) =>
      signUpPage(reply, 400, embed, known, {
        stamp,
        email: emailText.slice(0, MAX_ADDRESS_TEXT),
        chosen: wanted,
        tracking,
        error: { field, message },
      });
    if (!email)
      return formError(
        'email',
        'That does not look like a single email address. Check it and send the form again.',
      );
    const chosen = known.filter(
      (segment) => wanted.includes(segment.slug) || wanted.includes(String(segment.id)),
    );
    // A form that listed topics and got none back: the person unticked them all (as the preferences
    // page, it is not "every topic"). An API call without any segment field still means every topic.
    if (chosen.length === 0 && segmentsShown && known.length > 0)
      return formError('segment', 'Choose at least one topic to receive the recap.');
    const segments = chosen.length > 0 ? chosen : known;
    const consent = consentContext(request, 'web');
    const { subscriberId, outcome, slot } = await requestSignUp(
      deps.db,
      {
        email,
        segmentIds: segments.map((segment) => segment.id),
        tracking,
        shown: {
          form: FORM_CONSENT_TEXT,
          segments: segments.map((segment) => segment.name).join(', '),
          tracking: trackingShown ? SIGNUP_TRACKING_TEXT : '(not shown: untracked)',
        },
      },
      consent,
      confirmIntervalSeconds,
    );
    if (outcome === 'confirm') {
      const token = signToken(secrets, {
        kind: 'confirm',
        subscriberId,
        expiresAt: Math.floor(Date.now() / 1000) + CONFIRM_TTL_SECONDS,
      });
      let message: RenderedMessage;
      try {
        message = renderSystemMail(context, 'confirm', {
          confirm_url: `${deps.config.publicUrl}/confirm/${token}`,
          segments: segmentList(segments.map((segment) => segment.name)),
        });
      } catch (error) {
        request.log.error({ err: error, kind: 'confirm' }, 'system mail failed');
        if (slot) await releaseConfirmationSlot(deps.db, slot);
        reply.header('retry-after', '300');
        return answer(
          reply,
          503,
          embed,
          'We could not send the confirmation',
          html`<p>Nothing was sent to you. Please <a href="${signUpPath(embed)}">try again</a> in a few minutes.</p>`,
        );
      }
      // Handed to the mailer once the answer is out: the answer takes as long for a new address as for
      // a known one, so it cannot tell which addresses are subscribed. A mail the mailer does not take
      // must not hold the address's slot for SIGNUP_CONFIRM_INTERVAL.
      afterAnswer(reply, async () => {
        const handedOver = await mailSystemMessage(
          context,
          request.log,
          'confirm',
          { subscriberId, email },
          message,
        );
        if (!handedOver && slot) {
          await releaseConfirmationSlot(deps.db, slot).catch((error: unknown) =>
            request.log.error({ err: error }, 'confirmation slot not released'),
          );
        }
      });
    }
    return checkInbox(reply, embed, { ...resend, email }, resent);
  });

  // Link scanners GET and HEAD every link of a mail: the link only shows a button; the POST confirms.
  server.get<{ Params: { token: string } }>('/confirm/:token', async (request, reply) => {
    const payload = verifyToken(secrets, request.params.token, 'confirm');
    if (!payload || payload.expiresAt === undefined) return invalidLinkPage(reply);
    const subscriber = await findSubscriber(deps.db, payload.subscriberId);
    // A complained address may confirm a request made after its complaint (confirmSignUp checks the order).
    if (!subscriber || ['bounced', 'erased'].includes(subscriber.status)) return invalidLinkPage(reply);
    if (subscriber.status === 'active') return subscribedPage(reply, payload.subscriberId);
    return sendPage(
      reply,
      200,
      CONFIRM_QUESTION,
      html`<p>Confirm that ${maskEmail(subscriber.email)} wants the Weekly AI Recap every week.</p>
<form method="post" action="/confirm/${request.params.token}">
<button type="submit">Confirm my subscription</button>
</form>
<p class="muted">Did not ask for it? Ignore the mail: nothing is sent until you confirm.</p>`,
    );
  });

  server.post<{ Params: { token: string } }>('/confirm/:token', async (request, reply) => {
    const payload = verifyToken(secrets, request.params.token, 'confirm');
    if (!payload || payload.expiresAt === undefined) return invalidLinkPage(reply);
    const outcome = await confirmSignUp(deps.db, payload.subscriberId, consentContext(request, 'web'));
    if (outcome === 'confirmed' || outcome === 'already-active') {
      if (outcome === 'confirmed')
        await sendWelcome(payload.subscriberId, preferencesToken(payload.subscriberId), request.log);
      return subscribedPage(reply, payload.subscriberId);
    }
    return invalidLinkPage(reply);
  });

  function preferencesToken(subscriberId: string): string {
    return signToken(secrets, { kind: 'preferences', subscriberId });
  }

  function subscribedPage(reply: FastifyReply, subscriberId: string): FastifyReply {
    return sendPage(
      reply,
      200,
      'You are subscribed',
      html`<p>The Weekly AI Recap will arrive every week.</p><p><a href="/p/${preferencesToken(subscriberId)}">Choose your topics</a>.</p>`,
    );
  }
}

function segmentList(names: readonly string[]): string {
  return names.length > 0 ? names.join(', ') : 'every topic';
}
