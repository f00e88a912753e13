// The feedback links as a reader meets them, through the built CLI (bin/recap.js) as README tells a user:
// `recap demo` mails the issue to the outbox, `recap serve` answers the links, `recap stats --json`
// counts the answers.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoReaderAnswers } from '../../src/demo/demo-engagement.ts';
import { runCli, tempWorkdir } from '../support/cli.ts';
import { formsOf } from '../support/html-forms.ts';
import { readOutbox } from '../support/outbox.ts';
import { freePort, type ServedCli, startServeCli } from '../support/serve-cli.ts';

const BROWSER =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
const dir = tempWorkdir('recap-feedback-e2e-');
const outbox = path.join(dir, 'outbox');
let env: Record<string, string> = {};
let served: ServedCli | undefined;

beforeAll(async () => {
  const port = await freePort();
  env = {
    RECAP_DATA_DIR: path.join(dir, 'data'),
    RECAP_OUTBOX_DIR: outbox,
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
  };
});
afterAll(async () => {
  await served?.stop();
});

/** Opens a feedback link and presses the page's button with `choice` ticked, as a person would. */
async function press(link: string, choice: string): Promise<{ status: number; page: string }> {
  const opened = await fetch(link, { headers: { 'user-agent': BROWSER } });
  expect(opened.status).toBe(200);
  const form = formsOf(await opened.text()).find((candidate) => candidate.method === 'post');
  expect(form).toBeDefined();
  const body = new URLSearchParams(form?.fields.filter(([name]) => name !== 'choice'));
  body.set('choice', choice);
  const pressed = await fetch(new URL(form?.action ?? '', link), {
    method: 'POST',
    body,
    headers: { 'user-agent': BROWSER },
  });
  return { status: pressed.status, page: await pressed.text() };
}

describe('feedback through the built CLI', { timeout: 300_000 }, () => {
  it('a reader votes from a mailed copy and recap stats --json counts the vote and the rating', async () => {
    const demo = await runCli(['demo'], env, dir, 280_000);
    expect(demo.stderr).toBe('');
    expect(demo.code).toBe(0);
    const week = /Weekly AI Recap (\d{4}-W\d{2})/.exec(demo.stdout)?.[1] ?? '';
    // A reader the demo's simulated readers left without an answer: their vote and rating are the only ones.
    const mail = (await readOutbox(outbox)).find((m) => {
      const id = new RegExp(`^recap\\.${week}\\.(\\d+)@`).exec(m.file)?.[1];
      return id !== undefined && !demoReaderAnswers(id);
    })?.parsed;
    const before = JSON.parse((await runCli(['stats', '--week', week, '--json'], env, dir)).stdout).feedback;
    const links = [...(mail?.text ?? '').matchAll(/^(More like this|Less like this|Great):\n(\S+)$/gm)];
    const more = links.find((match) => match[1] === 'More like this')?.[2] ?? '';
    const great = links.find((match) => match[1] === 'Great')?.[2] ?? '';
    expect(more).toMatch(new RegExp(`^${env.PUBLIC_URL}/f/`));
    expect(great).toMatch(new RegExp(`^${env.PUBLIC_URL}/f/`));

    served = await startServeCli(env, dir);
    const voted = await press(more, 'more');
    expect(voted.status).toBe(200);
    expect(voted.page).toContain('Your answer is saved');
    expect((await press(more, 'less')).status).toBe(200);
    expect((await press(great, '3')).status).toBe(200);
    await served.stop();
    served = undefined;

    const stats = await runCli(['stats', '--week', week, '--json'], env, dir);
    expect(stats.stderr).toBe('');
    expect(stats.code).toBe(0);
    const feedback = JSON.parse(stats.stdout).feedback;
    type Votes = { storyId: string; more: number; less: number };
    const counted = (votes: Votes[], id: string) =>
      votes.find((v) => v.storyId === id) ?? { more: 0, less: 0 };
    const changed = (feedback.votes as Votes[])
      .map((v) => ({
        storyId: v.storyId,
        more: v.more - counted(before.votes, v.storyId).more,
        less: v.less - counted(before.votes, v.storyId).less,
      }))
      .filter((v) => v.more !== 0 || v.less !== 0);
    // One vote, changed from more to less: one story counts one more "less", nothing else moved.
    expect(changed).toEqual([{ storyId: expect.any(String), more: 0, less: 1 }]);
    expect(feedback.total.answers - before.total.answers).toBe(1);
    expect(feedback.total.counts[2] - before.total.counts[2]).toBe(1);
    const text = await runCli(['stats', '--week', week], env, dir);
    expect(text.stdout).toContain('Story votes (more like this, less like this):');
    expect(text.stdout).toMatch(/\n\s+\d+\s+\d+\s+\d+\s+mean \d\.\d\d\s+all readers\n/);
  }, 300_000);
});
