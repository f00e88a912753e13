import type { Segment } from '../stories/segment.ts';
import type { PublicSite } from './archive-pages.ts';
import { html, type SafeHtml } from './html.ts';

/** The form's consent sentence; stored with the request in the consent log. */
export const FORM_CONSENT_TEXT =
  'Send me the Weekly AI Recap by email. I can unsubscribe at any time with the link in every issue.';
/** The tracking choice as the form words it; stored with the request in the consent log. */
export const SIGNUP_TRACKING_TEXT =
  'Count my opens and clicks (a tiny image and redirecting links tell us which stories you read).';
/** The hidden field only bots fill in (hidden by CSS and from assistive technology, never autofilled). */
export const HONEYPOT_FIELD = 'website';
/** The signed time the form was served (see form-stamp.ts). */
export const FORM_STAMP_FIELD = 'form_stamp';
/**
 * Sent by every form that lists topics: with it, no topic ticked is a mistake to point out; without it
 * (an API client, an older form) no segment field means every topic, as documented.
 */
export const SEGMENTS_SHOWN_FIELD = 'segments_shown';
const PRIVACY_LINE =
  'We use your address only to send you the recap, never share or sell it, and every issue has a one-click unsubscribe.';

/** What the sign-up page shows around its form. */
export interface SignUpPageSettings {
  site: PublicSite;
  privacyUrl: string | undefined;
  /** The newest issue's public page and date range, when one was sent. */
  latest: { path: string; weekRange: string } | null;
  /** Inside another site's frame: compact, and every link opens outside the frame. */
  embed: boolean;
}

/** What the person sent (or nothing on a fresh form), shown again with the error that stopped it. */
export interface SignUpFormState {
  stamp: string;
  email: string;
  /** Slugs ticked; undefined: the fresh form, every topic ticked. */
  chosen?: readonly string[];
  tracking: boolean;
  error?: { field: 'email' | 'segment'; message: string };
}

/** The path the form posts to (the embedded form stays embedded). */
export function signUpPath(embed: boolean): string {
  return embed ? '/subscribe?embed=1' : '/subscribe';
}

/** The sign-up page's body: what the recap is and when it comes, a sample, the form, the privacy line. */
export function signUpBody(
  settings: SignUpPageSettings,
  segments: readonly Segment[],
  state: SignUpFormState,
): SafeHtml {
  const { site, embed } = settings;
  const outside = embed ? html` target="_blank" rel="noopener"` : '';
  const when = site.cadence ? `Free, ${site.cadence}, by email.` : 'Free, by email.';
  const error = state.error;
  const chosen = state.chosen ? new Set(state.chosen) : null;
  return html`<p>${site.description}</p>
<p>${when}${settings.latest ? html` <a href="${settings.latest.path}"${outside}>Read the latest issue</a> (${settings.latest.weekRange}).` : ''}</p>
${error ? html`<p class="error" role="alert" id="form-error">${error.message}</p>` : ''}
<form method="post" action="${signUpPath(embed)}">
<input type="hidden" name="${FORM_STAMP_FIELD}" value="${state.stamp}">
<div style="position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden" aria-hidden="true"><label>Leave this empty <input type="text" name="${HONEYPOT_FIELD}" tabindex="-1" autocomplete="off" value=""></label></div>
<label for="email">Email address</label>
<input id="email" type="email" name="email" required autocomplete="email" value="${state.email}"${error?.field === 'email' ? html` aria-invalid="true" aria-describedby="form-error" autofocus` : ''}>
${
  segments.length > 0
    ? html`<fieldset${error?.field === 'segment' ? html` aria-describedby="form-error"` : ''}><legend>Topics</legend>
${segments.map((segment) => html`<label><input type="checkbox" name="segment" value="${segment.slug}"${!chosen || chosen.has(segment.slug) ? html` checked` : ''}${error?.field === 'segment' && segment === segments[0] ? html` autofocus` : ''}> ${segment.name}</label>`)}
</fieldset>
<input type="hidden" name="${SEGMENTS_SHOWN_FIELD}" value="yes">`
    : ''
}
<label><input type="checkbox" name="tracking" value="yes"${state.tracking ? html` checked` : ''}> ${SIGNUP_TRACKING_TEXT}</label>
<input type="hidden" name="tracking_shown" value="yes">
<p class="muted">${FORM_CONSENT_TEXT}</p>
<button type="submit" class="primary">Subscribe</button>
</form>
<p class="muted"><small>${PRIVACY_LINE}${settings.privacyUrl ? html` <a href="${settings.privacyUrl}"${outside}>Privacy notice</a>` : ''}</small></p>`;
}

/** What "Check your inbox" repeats so the person can ask again: the request as it was sent. */
export interface ResendFields {
  email: string;
  stamp: string;
  segments: readonly string[];
  segmentsShown: boolean;
  tracking: boolean;
  /** A bot's filled honeypot travels on, so its "resend" is ignored like its first try. */
  honeypot: string;
}

/**
 * "Check your inbox": names the address and the sender to look for, a spam-folder hint, and a button
 * that sends the same request again (bound by the per-address interval like the first).
 */
export function checkInboxBody(
  sender: { name: string; email: string; subject: string | null },
  intervalSeconds: number,
  request: ResendFields,
  options: { embed: boolean; resent: boolean },
): SafeHtml {
  const limit =
    intervalSeconds > 0 ? ` At most one link per address every ${duration(intervalSeconds)}.` : '';
  return html`${options.resent ? html`<p role="status"><strong>If a new link could be sent, it is on its way.</strong>${limit}</p>` : ''}
<p>If <strong>${request.email}</strong> can receive the recap, a confirmation link is on its way to it. Nothing is sent until you click that link.</p>
<p>Look for a mail from <strong>${sender.name}</strong> &lt;${sender.email}&gt;${sender.subject ? html` with the subject “${sender.subject}”` : ''}.</p>
<p>Not there after a few minutes? Look in your spam or junk folder (and mark the mail as not spam), or in a Promotions or Updates tab.</p>
<form method="post" action="${signUpPath(options.embed)}">
<input type="hidden" name="${FORM_STAMP_FIELD}" value="${request.stamp}">
<input type="hidden" name="email" value="${request.email}">
<input type="hidden" name="${HONEYPOT_FIELD}" value="${request.honeypot}">
${request.segments.map((slug) => html`<input type="hidden" name="segment" value="${slug}">`)}
${request.segmentsShown ? html`<input type="hidden" name="${SEGMENTS_SHOWN_FIELD}" value="yes">` : ''}
${request.tracking ? html`<input type="hidden" name="tracking" value="yes">` : ''}
<input type="hidden" name="tracking_shown" value="yes">
<input type="hidden" name="resend" value="yes">
<button type="submit">Send the link again</button>
</form>
<p class="muted"><small>${limit.trim()}</small> <a href="${signUpPath(options.embed)}">Use another address</a></p>`;
}

/** 600 -> "10 minutes", 3600 -> "hour", 90 -> "90 seconds". */
function duration(seconds: number): string {
  if (seconds % 3600 === 0) return seconds === 3600 ? 'hour' : `${seconds / 3600} hours`;
  if (seconds % 60 === 0) return seconds === 60 ? 'minute' : `${seconds / 60} minutes`;
  return seconds === 1 ? 'second' : `${seconds} seconds`;
}
