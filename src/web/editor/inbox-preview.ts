import { html, type SafeHtml } from '../html.ts';

/**
 * How much of the sender, subject and preheader an inbox list shows, in characters. Clients cut by
 * pixel width, so these are averages for proportional text of mixed case (measured on the demo issue's
 * subjects, default font sizes, light mode):
 *
 * | client                  | width   | sender | subject | preheader                               |
 * |-------------------------|---------|--------|---------|-----------------------------------------|
 * | Gmail app (Android/iOS) | 390 px  | 24     | 32      | 40 (one line)                           |
 * | Apple Mail (iPhone)     | 390 px  | 26     | 34      | 80 (two lines)                          |
 * | Gmail (web)             | 1280 px | 20     | 95 with the preheader on one line: "subject - preheader" |
 * | Apple Mail (macOS)      | 1280 px | 30     | 40      | 90 (two lines)                          |
 */
export interface InboxClient {
  id: string;
  name: string;
  width: 'phone' | 'desktop';
  sender: number;
  subject: number;
  /** Characters for the preheader; for a shared line (Gmail web), subject and preheader share `subject`. */
  preheader: number;
  sharedLine?: boolean;
}

export const INBOX_CLIENTS: readonly InboxClient[] = [
  {
    id: 'gmail-phone',
    name: 'Gmail app, phone 390 px',
    width: 'phone',
    sender: 24,
    subject: 32,
    preheader: 40,
  },
  {
    id: 'apple-phone',
    name: 'Apple Mail, iPhone 390 px',
    width: 'phone',
    sender: 26,
    subject: 34,
    preheader: 80,
  },
  {
    id: 'gmail-desktop',
    name: 'Gmail web, 1280 px',
    width: 'desktop',
    sender: 20,
    subject: 95,
    preheader: 95,
    sharedLine: true,
  },
  {
    id: 'apple-desktop',
    name: 'Apple Mail, macOS 1280 px',
    width: 'desktop',
    sender: 30,
    subject: 40,
    preheader: 90,
  },
];

/** `text` cut to `max` characters (code points), "…" in the last place when something was cut. */
export function cutTo(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  return `${chars
    .slice(0, Math.max(0, max - 1))
    .join('')
    .trimEnd()}…`;
}

export interface InboxLine {
  client: InboxClient;
  sender: string;
  subject: string;
  /** What is left of the preheader (empty when the subject took the whole line). */
  preheader: string;
  /** True when the subject itself was cut. */
  subjectCut: boolean;
}

/** What each client's inbox list shows of one message. Pure. */
export function inboxLines(sender: string, subject: string, preheader: string): InboxLine[] {
  return INBOX_CLIENTS.map((client) => {
    const shownSubject = cutTo(subject, client.subject);
    const subjectCut = shownSubject !== subject;
    let shownPreheader = '';
    if (client.sharedLine) {
      // Gmail web: "Subject - preheader" on one line; the preheader gets what the subject leaves.
      const room = client.subject - [...subject].length - 3;
      shownPreheader = subjectCut || room < 4 ? '' : cutTo(preheader, room);
    } else shownPreheader = cutTo(preheader, client.preheader);
    return {
      client,
      sender: cutTo(sender, client.sender),
      subject: shownSubject,
      preheader: shownPreheader,
      subjectCut,
    };
  });
}

/** The inbox preview: one mock list row per client, the cut-offs named beside each. */
export function inboxPreview(sender: string, subject: string, preheader: string): SafeHtml {
  return html`<div class="inbox-preview" id="inbox-preview">${inboxLines(sender, subject, preheader).map(
    (line) => html`<figure class="inbox ${line.client.width}" data-client="${line.client.id}">
<figcaption>${line.client.name} <span class="muted">(sender ${line.client.sender}, ${line.client.sharedLine ? `subject and preheader ${line.client.subject} characters on one line` : `subject ${line.client.subject}, preheader ${line.client.preheader} characters`})</span></figcaption>
<div class="inbox-row"><span class="inbox-sender">${line.sender}</span>${
      line.client.sharedLine
        ? html`<span class="inbox-line"><span class="inbox-subject">${line.subject}</span>${line.preheader ? html`<span class="inbox-preheader"> - ${line.preheader}</span>` : ''}</span>`
        : html`<span class="inbox-subject">${line.subject}</span><span class="inbox-preheader">${line.preheader}</span>`
    }</div>
</figure>`,
  )}</div>`;
}
