import type { LiveProgress } from '../../delivery/live-progress.ts';
import { html, type SafeHtml } from '../html.ts';
import type { IssuePageData } from './issue-page.ts';

/** The send part of the issue page: what can be done now, the live figures and the workers alive. */
export interface SendView {
  progress: LiveProgress | null;
  /** Start is offered: approved (or a draft while approval is not required), not started yet. */
  canStart: boolean;
  /** This server can start a send (it has a sender); else the page points at `recap send`. */
  canSendHere: boolean;
}

export type SendAction = 'start' | 'pause' | 'resume' | 'cancel';

export const sendActionLabels: Record<SendAction, string> = {
  start: 'Start sending now',
  pause: 'Pause the send',
  resume: 'Resume the send',
  cancel: 'Cancel the send',
};

/** "Send": Start / Pause / Resume / Cancel (each confirmed on a page of its own), progress, workers. */
export function sendSection(data: IssuePageData): SafeHtml {
  const view = data.send;
  if (!view) return html``;
  const progress = view.progress;
  const actions: SendAction[] = view.canStart
    ? view.canSendHere
      ? ['start']
      : []
    : data.status === 'sending'
      ? ['pause', 'cancel']
      : data.status === 'paused'
        ? ['resume', 'cancel']
        : [];
  const live = data.status === 'sending' || data.status === 'paused';
  return html`<section class="send" id="send" aria-labelledby="send-heading"${live ? html` data-progress-url="/editor/issues/${data.week}/progress.json"` : ''}>
<h2 id="send-heading">Send</h2>
<p id="send-status">${statusText(data, view)}</p>
${progress ? progressList(progress) : ''}
${progress ? workersLine(progress) : ''}
${
  actions.length > 0
    ? html`<div class="send-controls">${actions.map(
        (action) =>
          html`<form method="post" action="/editor/issues/${data.week}/send"><input type="hidden" name="action" value="${action}"><button type="submit" id="send-${action}">${sendActionLabels[action]}</button></form>`,
      )}<span class="muted">each asks for confirmation first</span></div>`
    : ''
}
</section>`;
}

function statusText(data: IssuePageData, view: SendView): string {
  const reason = view.progress?.reason ? ` (${view.progress.reason})` : '';
  if (view.canStart)
    return view.canSendHere
      ? `Not started. The schedule sends it (${data.goesOut?.text ?? 'see Approval'}), or start it now.`
      : `Not started. Start it with: recap send --week ${data.week}`;
  if (data.status === 'draft') return 'Approve the issue before it can be sent.';
  return `The send is ${data.status}${reason}.`;
}

/** The figures the script refreshes: each value carries `data-field` naming its JSON field. */
function progressList(p: LiveProgress): SafeHtml {
  const field = (name: string, value: string) => html`<dd data-field="${name}">${value}</dd>`;
  return html`<dl class="progress" id="send-progress" aria-live="off">
<dt>Status</dt>${field('status', p.status)}
<dt>Sent</dt>${field('sent', `${p.sent} of ${p.total}`)}
<dt>Failed</dt>${field('failed', String(p.failed))}
<dt>Bounced</dt>${field('bounced', String(p.bounced))}
<dt>Due now</dt>${field('due', String(p.due))}
<dt>Waiting for local time</dt>${field('waiting', String(p.waiting))}
<dt>Rate</dt>${field('rate', formatRate(p.perSecond))}
<dt>ETA</dt>${field('eta', formatEta(p.etaSeconds))}
</dl>
${
  p.rollout.length > 0
    ? html`<table id="send-rollout"><caption>Local-time rollout by hour (UTC)</caption><thead><tr><th>Hour</th><th class="num">Sent</th><th class="num">Due</th></tr></thead><tbody>${p.rollout.map(
        (hour) =>
          html`<tr><td>${hour.hour ? hour.hour.toISOString().slice(0, 13).replace('T', ' ') : ''}</td><td class="num">${hour.sent}</td><td class="num">${hour.sent + hour.queued + hour.other}</td></tr>`,
      )}</tbody></table>`
    : ''
}`;
}

function workersLine(p: LiveProgress): SafeHtml {
  // A finished send needs no worker: saying none is alive would read as a fault.
  if (p.workers.length === 0 && (p.status === 'sent' || p.status === 'cancelled'))
    return html`<p id="workers" class="muted">No worker is running; none is needed, this send is over.</p>`;
  if (p.workers.length === 0)
    return html`<p id="workers" class="warn">No worker is alive: nothing sends until one runs (recap worker --follow, or Start/Resume here, which sends with this server’s own worker).</p>`;
  return html`<p id="workers">Workers alive: ${p.workers
    .map(
      (w) =>
        `${w.host}:${w.pid} (${w.kind === 'serve' ? 'this server' : w.kind === 'send' ? 'recap send' : 'recap worker'})`,
    )
    .join(', ')}</p>`;
}

/** "12.5 messages/s", or per minute below one a second (a greylisted or paced send). */
export function formatRate(perSecond: number): string {
  return perSecond >= 1 ? `${perSecond} messages/s` : `${Math.round(perSecond * 60)} messages/min`;
}

/** "2 min 5 s", "under a second", "–" when nothing moves. */
export function formatEta(seconds: number | null): string {
  if (seconds === null) return '–';
  if (seconds < 1) return 'under a second';
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  return minutes > 0 ? `${minutes} min ${rest} s` : `${rest} s`;
}

/** The confirmation step of a send action: what it does, and the button that does it. */
export function sendConfirmation(week: string, action: SendAction, detail: string): SafeHtml {
  const what: Record<SendAction, string> = {
    start: `Start sending ${week} now? ${detail}`,
    pause: `Pause the send of ${week}? Workers stop before their next batch; Resume continues it.`,
    resume: `Resume the send of ${week}? ${detail}`,
    cancel: `Cancel the send of ${week}? Every message not yet sent is cancelled; this cannot be undone.`,
  };
  return html`<p id="confirm-question">${what[action]}</p>
<form method="post" action="/editor/issues/${week}/send"><input type="hidden" name="action" value="${action}"><input type="hidden" name="confirmed" value="yes"><button type="submit" id="confirm-${action}">Yes: ${sendActionLabels[action].toLowerCase()}</button></form>
<p><a href="/editor/issues/${week}#send">No, back to the issue</a></p>`;
}
