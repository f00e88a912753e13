import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/connect.ts';
import { upsertStories } from '../../src/stories/story.repository.ts';
import { generateWeek } from '../selection/week-generator.ts';
import { runCli, tempWorkdir } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { readOutbox } from '../support/outbox.ts';

// `recap issue note` and `recap issue subject` through the built CLI, and the mail the send writes to
// the outbox: every edition carries the note (HTML and text) and the editor's subject and preheader.
let server: TestDatabase | undefined;
let env: Record<string, string | undefined>;
let dir = '';
const WEEK = '2026-W48';
const week = generateWeek({ seed: 11, events: 25 });
const NOTE =
  'A quieter week, with one paper worth your evening.\n\nThe long read: [our notes](https://notes.example.org/w48).';
const SUBJECT = 'Open weights, closed doors: the week in AI';
const PREHEADER = 'Three labs, two lawsuits and a benchmark that finally means something';

beforeAll(async () => {
  dir = tempWorkdir('recap-writing-');
  const candidate = await createTestDatabase();
  env = {
    RECAP_DATA_DIR: path.join(dir, 'data'),
    RECAP_OUTBOX_DIR: path.join(dir, 'outbox'),
    RECAP_TZ: 'UTC',
    PUBLIC_URL: 'https://recap.example.com',
  };
  if (candidate.url) {
    server = candidate;
    env.DATABASE_URL = candidate.url;
    await candidate.db.transaction().execute((trx) => upsertStories(trx, week.stories));
  } else {
    await candidate.close();
    const handle = await connectDatabase({ databaseUrl: undefined, dataDir: env.RECAP_DATA_DIR as string });
    await handle.db.transaction().execute((trx) => upsertStories(trx, week.stories));
    await handle.close();
  }
}, 300_000);
afterAll(() => server?.close());

describe('recap issue note / subject (child process)', () => {
  it('refuses bad input with one line', async () => {
    const both = await runCli(['issue', 'note', '--week', WEEK, 'text', '--clear'], env);
    expect(both.code).toBe(1);
    expect(both.stderr).toBe('recap: recap issue note: give either TEXT or --clear, not both\n');
    const long = await runCli(['issue', 'subject', '--week', WEEK, 'x'.repeat(201)], env);
    expect(long.code).toBe(1);
    expect(long.stderr).toBe('recap: The subject is 201 characters; at most 200.\n');
  });

  it('puts the note, subject and preheader into every sent edition, and freezes them at approval', async () => {
    const note = await runCli(['issue', 'note', '--week', WEEK, NOTE], env);
    expect(note.stderr).toBe('');
    expect(note.stdout).toBe(`note of ${WEEK} saved\n`);
    const subject = await runCli(
      ['issue', 'subject', '--week', WEEK, SUBJECT, '--preheader', PREHEADER],
      env,
    );
    expect(subject.stdout).toBe(`subject of ${WEEK}: ${SUBJECT}\npreheader: ${PREHEADER}\n`);
    expect((await runCli(['issue', 'build', '--week', WEEK], env)).code).toBe(0);
    const show = await runCli(['issue', 'show', '--week', WEEK], env);
    expect(show.stdout).toContain(
      `\nWriting:\n  subject: ${SUBJECT}\n  preheader: ${PREHEADER}\n  note: A quieter week, with one paper worth your evening.\n\n        The long read:`,
    );

    const csv = path.join(dir, 'readers.csv');
    writeFileSync(
      csv,
      'email,name,segments\nann@example.com,Ann,Researchers\nbo@example.com,Bo,Investors;Policy & Legal\n',
    );
    expect((await runCli(['import', 'subscribers', csv], env)).code).toBe(0);
    const approve = await runCli(['issue', 'approve', '--week', WEEK, '--allow-empty'], env);
    expect(approve.stderr).toBe('');

    const late = await runCli(['issue', 'note', '--week', WEEK, '--clear'], env);
    expect(late.code).toBe(1);
    expect(late.stderr).toBe(
      `recap: issue ${WEEK} is approved: its note is frozen with it; return it to draft first (Back to draft in the editor, or: recap issue unapprove --week ${WEEK})\n`,
    );
    const lateSubject = await runCli(['issue', 'subject', '--week', WEEK, 'Another'], env);
    expect(lateSubject.stderr).toContain('its subject and preheader are frozen with it');

    const send = await runCli(['send', '--week', WEEK], env);
    expect(send.stderr).not.toContain('recap:');
    expect(send.code).toBe(0);
    expect(send.stdout).toContain(`${WEEK}: sent 2 `);
    const recaps = (await readOutbox(env.RECAP_OUTBOX_DIR as string))
      .filter((mail) => mail.file.startsWith(`recap.${WEEK}.`))
      .map((mail) => mail.parsed);
    expect(recaps.length).toBe(2);
    for (const mail of recaps) {
      expect(mail.subject).toBe(SUBJECT);
      const text = mail.text ?? '';
      expect(text).toContain('A quieter week, with one paper worth your evening.');
      // The link's text, then its (tracked) URL on a line of its own.
      expect(text).toMatch(/The long read: our notes\.?\nhttps:\/\/recap\.example\.com\/c\/\S+\n/);
      // Above the first section.
      expect(text.indexOf('A quieter week')).toBeLessThan(text.indexOf('TOP STORY'));
      const html = String(mail.html);
      expect(html).toContain(PREHEADER);
      expect(html).toContain('A quieter week, with one paper worth your evening.');
      expect(html).toMatch(/<a href="https:\/\/recap\.example\.com\/c\/[^"]+"[^>]*>our notes<\/a>/);
      expect(html.indexOf('A quieter week')).toBeLessThan(html.indexOf('Top story'));
    }
  });
});
