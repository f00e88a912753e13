import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RenderedMessage } from '../render/rendered-message.ts';
import { listSegments } from '../stories/story.repository.ts';
import { toEmailAddress } from '../subscribers/email-address.ts';
import { confirmSignUp, releaseConfirmationSlot, requestSignUp } from '../subscribers/sign-up.ts';
import { findSubscriber, followedSegmentNames } from '../subscribers/subscriber.repository.ts';
import { signToken, verifyToken } from '../tracking/token.ts';
import { formStampAge, signFormStamp } from './form-stamp.ts';
import { html } from './html.ts';
import { rateLimitKey } from './rate-limiter.ts';
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
const FORM_CONSENT_TEXT =
  'Send me the Weekly AI Recap by email. I can unsubscribe at any time with the link in every issue.';
/** The tracking choice as the form words it; stored with the request in the consent log. */
export const SIGNUP_TRACKING_TEXT =
  'Count my opens and clicks (a tiny image and redirecting links tell us which stories you read).';
const CONFIRM_QUESTION = 'Confirm your subscription';
const CHECK_INBOX =
  'If this address can receive the recap, a confirmation link is on its way. Nothing is sent until you click it.';
/** The hidden field only bots fill in (hidden by CSS and from assistive technology, never autofilled). */
export const HONEYPOT_FIELD = 'website';
/** The signed time the form was served (see form-stamp.ts). */
export const FORM_STAMP_FIELD = 'form_stamp';

/**
 * Double opt-in. GET /subscribe: the form, with a honeypot field and a signed time stamp. POST
 * /subscribe (email, segment ids or slugs, the stamp): creates a pending subscriber, records what was
 * shown, and mails the confirmation link after the answer has gone out, at most once per address per
 * SIGNUP_CONFIRM_INTERVAL; a confirmation the mailer does not take gives that slot back, so the person
 * may try again at once. The answer is the same page whatever the address's state (new, pending,
 * active, suppressed, throttled) and for a filled honeypot or a form sent faster than
 * SIGNUP_MIN_FILL_SECONDS (then nothing is stored or mailed); only a confirmation that cannot even be
 * rendered gets a 503 page (and its slot back). An address the strict parser refuses and a missing or
 * expired stamp get 400. Rate-limited per IP in this process. GET /confirm/:token shows a button (link
 * scanners fetch every link); POST /confirm/:token activates.
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
  const checkInbox = (reply: FastifyReply) =>
    sendPage(reply, 200, 'Check your inbox', html`<p>${CHECK_INBOX}</p>`);

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

  server.get('/subscribe', async (_request, reply) => {
    const segments = await listSegments(deps.db);
    return sendPage(
      reply,
      200,
      'Subscribe to the Weekly AI Recap',
      html`<form method="post" action="/subscribe">
<input type="hidden" name="${FORM_STAMP_FIELD}" value="${signFormStamp(secrets, Date.now() / 1000)}">
<div style="position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden" aria-hidden="true"><label>Leave this empty <input type="text" name="${HONEYPOT_FIELD}" tabindex="-1" autocomplete="off" value=""></label></div>
<label>Email <input type="email" name="email" required autocomplete="email"></label>
<fieldset><legend>Topics</legend>
${segments.map((segment) => html`<label><input type="checkbox" name="segment" value="${segment.slug}" checked> ${segment.name}</label>`)}
</fieldset>
<label><input type="checkbox" name="tracking" value="yes"> ${SIGNUP_TRACKING_TEXT}</label>
<input type="hidden" name="tracking_shown" value="yes">
<p class="muted">${FORM_CONSENT_TEXT}</p>
<button type="submit">Subscribe</button>
</form>`,
    );
  });

  server.post('/subscribe', async (request, reply) => {
    if (!signUpLimiter.allow(rateLimitKey(request.ip))) {
      reply.header('retry-after', '600');
      return sendPage(reply, 429, 'Too many attempts', html`<p>Please try again in a little while.</p>`);
    }
    const age = formStampAge(secrets, fields(request.body, FORM_STAMP_FIELD)[0], Date.now() / 1000);
    if (age === null)
      return sendPage(
        reply,
        400,
        'Please use the form again',
        html`<p>This form is out of date or incomplete. <a href="/subscribe">Open it again</a> and send it from there.</p>`,
      );
    // A bot: it filled the field people never see, or sent the form faster than a person can. It gets
    // the usual answer, so it learns nothing; nothing is stored or mailed.
    if ((fields(request.body, HONEYPOT_FIELD)[0] ?? '') !== '' || age < minFillSeconds) {
      request.log.info({ honeypot: age >= minFillSeconds, age }, 'sign-up form bot ignored');
      return checkInbox(reply);
    }
    const email = toEmailAddress(fields(request.body, 'email')[0] ?? '');
    if (!email)
      return sendPage(
        reply,
        400,
        'Check the address',
        html`<p>That does not look like a single email address. <a href="/subscribe">Try again</a>.</p>`,
      );
    const wanted = [...fields(request.body, 'segment'), ...fields(request.body, 'segments')].flatMap(
      (value) => value.split(','),
    );
    const known = await listSegments(deps.db);
    const chosen = known.filter(
      (segment) => wanted.includes(segment.slug) || wanted.includes(String(segment.id)),
    );
    // No topic ticked (or an API call without any) means every topic, as the form proposes.
    const segments = chosen.length > 0 ? chosen : known;
    const consent = consentContext(request, 'web');
    // Consent is a box the person ticked (CJEU Planet49): a call that never showed the choice (an API,
    // an old form) is untracked, whatever TRACKING_DEFAULT says (that applies to CSV imports only).
    const trackingShown = fields(request.body, 'tracking_shown')[0] === 'yes';
    const tracking = trackingShown && fields(request.body, 'tracking')[0] === 'yes';
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
        return sendPage(
          reply,
          503,
          'We could not send the confirmation',
          html`<p>Nothing was sent to you. Please <a href="/subscribe">try again</a> in a few minutes.</p>`,
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
    return checkInbox(reply);
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
