import { NOTE_MAX, PREHEADER_OVERRIDE_MAX, SUBJECT_OVERRIDE_MAX } from '../../issues/issue-writing.ts';
import { html, type SafeHtml } from '../html.ts';
import { inboxPreview } from './inbox-preview.ts';
import type { IssuePageData } from './issue-page.ts';

/**
 * "Writing": the editor's note, subject and preheader (one form, works without JavaScript), and how
 * the shown segment set's sender, subject and preheader look in four inboxes. Read-only once approved.
 */
export function writingSection(data: IssuePageData): SafeHtml {
  const frozen = data.status !== 'draft';
  const disabled = frozen ? html` disabled` : '';
  const writing = data.writing;
  return html`<section class="writing" id="writing" aria-labelledby="writing-heading">
<h2 id="writing-heading">Note, subject and inbox</h2>
${
  frozen
    ? html`<p class="muted" id="writing-frozen">This issue is ${data.status}: its note, subject and preheader are frozen with it.${data.status === 'approved' || data.status === 'scheduled' ? ' Use Back to draft (under Approval) to change them.' : ''}</p>`
    : ''
}
<form method="post" action="/editor/issues/${data.week}/writing?${String(new URLSearchParams({ segments: data.segmentKey, view: data.view }))}" class="writing-form">
<label for="note">Editor’s note <span class="muted">(above the first section of every segment set; blank lines make paragraphs; https://… and [text](https://…) become links)</span></label>
<textarea id="note" name="note" rows="4" maxlength="${String(NOTE_MAX)}"${disabled}>${writing.note ?? ''}</textarea>
<label for="subject-override">Subject <span class="muted">(empty: each segment set keeps its own computed subject)</span></label>
<input id="subject-override" name="subject" maxlength="${String(SUBJECT_OVERRIDE_MAX)}" value="${writing.subject ?? ''}" placeholder="${data.subject}"${disabled}>
<label for="preheader-override">Preheader <span class="muted">(empty: computed)</span></label>
<input id="preheader-override" name="preheader" maxlength="${String(PREHEADER_OVERRIDE_MAX)}" value="${writing.preheader ?? ''}" placeholder="${data.preheader}"${disabled}>
${frozen ? '' : html`<p><button type="submit" id="save-writing">Save note and subject</button></p>`}
</form>
<h3 id="inbox-heading">In the inbox <span class="muted">(${data.segmentSets.find((set) => set.segmentKey === data.segmentKey)?.label ?? data.segmentKey})</span></h3>
${inboxPreview(data.senderName, data.subject, data.preheader)}
</section>`;
}
