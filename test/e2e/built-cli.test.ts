// The built CLI (bin/recap.js, compiled to dist/) run as README tells a user, on one fresh data folder:
// `recap demo` and its alert, sunsetting, `recap doctor`, then `recap serve` as readers and editors
// meet it. Every mail is read back as written, from the outbox folder or an SMTP server, and its links
// are followed. One folder for the whole file: the demo's week and readers feed the later cases.
import path from 'node:path';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempWorkdir } from '../support/cli.ts';
import { formsOf } from '../support/html-forms.ts';
import { linkIn, readOutbox, recipientsOf, waitForMail } from '../support/outbox.ts';
import { freePort, type ServedCli, startServeCli } from '../support/serve-cli.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';

const dir = tempWorkdir('recap-e2e-');
const outbox = path.join(dir, 'outbox');
let env: Record<string, string> = {};
let publicUrl = '';
let week = '';
let served: ServedCli | undefined;
let sink: SmtpSink;

beforeAll(async () => {
  sink = await startSmtpSink();
  // PUBLIC_URL names the port the server will listen on, so the demo's links lead to it too.
  const port = await freePort();
  publicUrl = `http://127.0.0.1:${port}`;
  env = {
    RECAP_DATA_DIR: path.join(dir, 'data'),
    RECAP_OUTBOX_DIR: outbox,
    PORT: String(port),
    PUBLIC_URL: publicUrl,
    ALERT_EMAIL: 'ops@example.com',
    TEST_RECIPIENTS: 'editor@example.com',
    SIGNUP_MIN_FILL_SECONDS: '0',
  };
});
afterAll(async () => {
  await served?.stop();
  await sink.close();
});

const outboxMail = (to: string, subject: string | RegExp) => async (): Promise<ParsedMail | undefined> =>
  (await readOutbox(outbox))
    .map((mail) => mail.parsed)
    .find(
      (mail) =>
        recipientsOf(mail).includes(to) &&
        (typeof subject === 'string' ? mail.subject === subject : subject.test(mail.subject ?? '')),
    );

/** Fills the sign-up form as a person would: every field it shows, the address, the tracking box ticked. */
async function signUp(base: string, email: string): Promise<Response> {
  const page = await (await fetch(`${base}/subscribe`)).text();
  const form = formsOf(page).find((candidate) => candidate.action === '/subscribe');
  expect(form, page).toBeDefined();
  const body = new URLSearchParams(form?.fields.filter(([name]) => name !== 'email'));
  body.set('email', email);
  const tracking = form?.checkboxes.find((box) => box.name === 'tracking');
  if (tracking && !tracking.checked) body.append('tracking', tracking.value);
  return fetch(new URL(form?.action ?? '/subscribe', base), { method: 'POST', body });
}

/**
 * Follows a confirmation link as a person would: the link, then, if the page asks for it, its
 * button (a form posting to the confirmation address, with its hidden fields).
 */
async function followConfirmation(link: string): Promise<{ status: number; page: string }> {
  const opened = await fetch(link);
  const page = await opened.text();
  const button = formsOf(page).find(
    (form) => form.method === 'post' && new URL(form.action || link, link).pathname.startsWith('/confirm/'),
  );
  if (!button) return { status: opened.status, page };
  const pressed = await fetch(new URL(button.action || link, link), {
    method: 'POST',
    body: new URLSearchParams(button.fields),
  });
  return { status: pressed.status, page: await pressed.text() };
}

// Generous limits: each command starts the embedded database (seconds, many more on a busy machine).
describe('commands of the built CLI', { timeout: 120_000 }, () => {
  it('recap demo writes the issue for every demo reader and the send-finished alert to the outbox', async () => {
    // 220 readers rendered and written: seconds on an idle machine, minutes on a crowded one.
    const demo = await runCli(['demo'], env, dir, 280_000);
    expect(demo.stderr).toBe('');
    expect(demo.code).toBe(0);
    week = /Weekly AI Recap (\d{4}-W\d{2})/.exec(demo.stdout)?.[1] ?? '';
    const sent = Number(/emails\s+(\d+) sent to /.exec(demo.stdout)?.[1]);
    expect(sent).toBeGreaterThan(0);

    const mails = await readOutbox(outbox);
    const issues = mails.filter((mail) => mail.file.startsWith(`recap.${week}.`));
    expect(issues).toHaveLength(sent);
    const first = issues[0]?.parsed;
    expect(first?.subject).toBeTruthy();
    expect(linkIn(first?.text, '/u/')).toMatch(new RegExp(`^${publicUrl}/u/`));
    const headerLine = (key: string) => first?.headerLines.find((line) => line.key === key)?.line;
    expect(headerLine('list-unsubscribe')).toContain(`<${publicUrl}/u/`);
    expect(headerLine('list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');

    const alerts = mails.filter((mail) => recipientsOf(mail.parsed).includes('ops@example.com'));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.parsed.subject).toBe(`[recap] The send of ${week} finished: ${sent} sent`);
    expect(alerts[0]?.parsed.text).toContain(`${sent} sent, 0 failed`);
  }, 300_000);

  it('recap subscribers sunset mails the re-engagement question with working links', async () => {
    const before = new Set((await readOutbox(outbox)).map((mail) => mail.file));
    const sunset = await runCli(['subscribers', 'sunset'], { ...env, SUNSET_AFTER_ISSUES: '1' }, dir);
    expect(sunset.stderr).toBe('');
    expect(sunset.code).toBe(0);
    const asked = Number(/sunsetting: (\d+) asked/.exec(sunset.stdout)?.[1]);
    // The demo simulates opens for most readers, not all: those without one are asked.
    expect(asked).toBeGreaterThan(0);
    const questions = (await readOutbox(outbox)).filter((mail) => !before.has(mail.file));
    expect(questions).toHaveLength(asked);
    const question = questions[0]?.parsed;
    expect(question?.subject).toBe('Still want the Weekly AI Recap?');
    expect(linkIn(question?.text, '/keep/')).toMatch(new RegExp(`^${publicUrl}/keep/`));
    expect(linkIn(question?.text, '/p/')).toMatch(new RegExp(`^${publicUrl}/p/`));
    expect(question?.html).toContain(`${publicUrl}/keep/`);
  });

  it('recap doctor reports one line per check and exits 1 for the http PUBLIC_URL', async () => {
    const doctor = await runCli(['doctor'], { ...env, SMTP_URL: sink.url }, dir);
    expect(doctor.stderr).not.toContain('unexpected error');
    expect(doctor.stdout).toMatch(/^✓ Database reachable: embedded database in /m);
    expect(doctor.stdout).toMatch(/^✓ SMTP reachable/m);
    expect(doctor.stdout).toMatch(/^✗ PUBLIC_URL uses https: http:\/\/127\.0\.0\.1:/m);
    expect(doctor.code).toBe(1);
  });
});

describe('recap serve with the outbox mailer', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    expect(week, 'the demo ran').not.toBe('');
    served = await startServeCli(env, dir);
  }, 180_000);

  it('sign-up mails a confirmation; its link confirms and a welcome mail follows', async () => {
    const answer = await signUp(publicUrl, 'new.reader@example.com');
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain('confirmation link is on its way');

    const confirmation = await waitForMail(
      outboxMail('new.reader@example.com', 'Confirm your Weekly AI Recap subscription'),
      'confirmation mail in the outbox',
    );
    const link = linkIn(confirmation.text, '/confirm/');
    expect(link).toMatch(new RegExp(`^${publicUrl}/confirm/`));
    expect(confirmation.html).toContain(link);

    const confirmed = await followConfirmation(link ?? '');
    expect(confirmed.status).toBe(200);
    expect(confirmed.page).toContain('You are subscribed');

    const welcome = await waitForMail(
      outboxMail('new.reader@example.com', 'Welcome to Weekly AI Recap'),
      'welcome mail in the outbox',
    );
    expect(linkIn(welcome.text, '/p/')).toMatch(new RegExp(`^${publicUrl}/p/`));
    expect(welcome.text).toContain(`${publicUrl}/archive`);
    const preferences = await fetch(linkIn(welcome.text, '/p/') ?? '');
    expect(preferences.status).toBe(200);
  });

  it("a demo reader's unsubscribe link unsubscribes on its button and a goodbye mail follows", async () => {
    const issue = (await readOutbox(outbox)).find((mail) => mail.file.startsWith(`recap.${week}.`))?.parsed;
    const reader = recipientsOf(issue as ParsedMail)[0] ?? '';
    const link = linkIn(issue?.text, '/u/');
    expect(link).toMatch(new RegExp(`^${publicUrl}/u/`));
    const page = await (await fetch(link ?? '')).text();
    const button = formsOf(page).find((form) => form.method === 'post');
    expect(button, page).toBeDefined();
    const answer = await fetch(new URL(button?.action ?? '', publicUrl), {
      method: 'POST',
      body: new URLSearchParams(button?.fields),
    });
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain('You are unsubscribed');

    const goodbye = await waitForMail(outboxMail(reader, /unsubscribed/i), 'goodbye mail in the outbox');
    expect(linkIn(goodbye.text, '/p/')).toMatch(new RegExp(`^${publicUrl}/p/`));
  });

  it("the editor's test send mails the [TEST] copy and its notice to TEST_RECIPIENTS", async () => {
    // As the editor who opened the link `recap serve` printed (its token for this start).
    const editor = { authorization: `Bearer ${served?.editorToken}` };
    const issuePage = await (await fetch(`${publicUrl}/editor/issues/${week}`, { headers: editor })).text();
    const testForm = formsOf(issuePage).find((form) => /\/test(\?|$)/.test(form.action));
    expect(testForm, issuePage).toBeDefined();
    const answer = await fetch(new URL(testForm?.action ?? '', publicUrl), {
      method: 'POST',
      headers: editor,
      body: new URLSearchParams(testForm?.fields),
    });
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain('sent to editor@example.com with a notice');

    const copy = await waitForMail(outboxMail('editor@example.com', /^\[TEST\] /), 'test copy');
    expect(copy.headers.get('x-recap-test')).toMatch(new RegExp(`^${week} `));
    const notice = await waitForMail(
      outboxMail('editor@example.com', new RegExp(`^Test send: Weekly AI Recap ${week} \\(`)),
      'test-send notice',
    );
    expect(linkIn(notice.text, `/editor/issues/${week}`)).toBeDefined();
  });
});

describe('recap serve with SMTP_URL', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    // The embedded database has one process at a time: the outbox server makes way for this one.
    await served?.stop();
    served = await startServeCli({ ...env, SMTP_URL: sink.url }, dir);
  }, 180_000);

  it('sign-up hands the confirmation to the SMTP server; confirming sends the welcome there', async () => {
    const answer = await signUp(publicUrl, 'smtp.reader@example.com');
    expect(answer.status).toBe(200);
    const byTo = (subject: string) => () =>
      sink.messages.find(
        (message) =>
          message.envelopeTo.includes('smtp.reader@example.com') && message.parsed.subject === subject,
      );
    const confirmation = await waitForMail(
      byTo('Confirm your Weekly AI Recap subscription'),
      'confirmation over SMTP',
    );
    const link = linkIn(confirmation.parsed.text, '/confirm/');
    expect(link).toMatch(new RegExp(`^${publicUrl}/confirm/`));
    expect((await followConfirmation(link ?? '')).status).toBe(200);
    const welcome = await waitForMail(byTo('Welcome to Weekly AI Recap'), 'welcome over SMTP');
    expect(linkIn(welcome.parsed.text, '/p/')).toMatch(new RegExp(`^${publicUrl}/p/`));
    expect(welcome.envelopeFrom).not.toBe('');
  });
});
