import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSegments } from '../../emails/fixtures/demo-edition.ts';
import { messageFactoryFor } from '../../src/delivery/edition-messages.ts';
import { runWorker } from '../../src/delivery/send-worker.ts';
import { startSend } from '../../src/delivery/start-send.ts';
import { editionFor, type IssueContent } from '../../src/issues/issue-content.ts';
import { createSmtpMailer } from '../../src/mail/smtp-mailer.ts';
import { escapeHtml } from '../../src/render/html-escape.ts';
import { wrap } from '../../src/render/plain-text.ts';
import { recapOutline } from '../../src/render/recap-outline.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { orderedIssue, orderedSlugs } from '../support/ordered-edition.ts';
import { startSmtpSink } from '../support/smtp-sink.ts';
import { testConfig } from './send-fixtures.ts';

const fastRetry = { baseMs: 10, capMs: 80, deadlineMs: 60_000 };

/** The reader's own order the audience freeze stored (an unknown id among them, as after an edit). */
const storedOrder = [
  'extra-1',
  'extra-2',
  'not-in-this-edition',
  'small-models-on-device',
  'eval-harness-release',
];

const editorial = [
  'scmp-hk-ai-beyond-us-china-rivalry',
  'eu-ai-act-gpai-code',
  'inference-prices-fall',
  'seed-rounds-ai-share',
  'small-models-on-device',
  'extra-2',
  'open-weights-coder-model',
  'agents-browser-security',
  'extra-0',
  'eval-harness-release',
  'extra-1',
];
// Hero, first cards and the pinned extra-0 in place; the movable stories of each section reordered.
const personal = [
  'scmp-hk-ai-beyond-us-china-rivalry',
  'eu-ai-act-gpai-code',
  'extra-2',
  'small-models-on-device',
  'inference-prices-fall',
  'seed-rounds-ai-share',
  'open-weights-coder-model',
  'extra-1',
  'extra-0',
  'eval-harness-release',
  'agents-browser-security',
];

function refusal(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

describe("sending each reader's own order of the stories", () => {
  let test: TestDatabase;
  let content: IssueContent;
  let titles: Map<string, string>;
  const readers = new Map<string, string>();

  beforeAll(async () => {
    test = await createTestDatabase();
    const { db } = test;
    await db
      .insertInto('segments')
      .values(demoSegments.map((segment) => ({ name: segment.name, slug: segment.slug })))
      .execute();
    const segments = await db.selectFrom('segments').select(['id', 'slug']).execute();
    const idOf = new Map(segments.map((segment) => [segment.slug, segment.id]));
    content = orderedIssue();
    for (const section of content.sections)
      section.segment = { ...section.segment, id: idOf.get(section.segment.slug) as number };
    const outline = recapOutline(editionFor(content, orderedSlugs), {});
    titles = new Map(
      [outline.hero, ...outline.sections.flatMap((section) => section.cards)].flatMap((card) =>
        card ? [[card.storyId, card.title] as [string, string]] : [],
      ),
    );
    // ordered, editorial (no stored order), untracked (an order stored all the same), refused once.
    const rows = await db
      .insertInto('subscribers')
      .values(
        ['ordered', 'editorial', 'untracked', 'retried'].map((name) => ({
          email: `${name}@example.test`,
          name,
          tracking_enabled: name !== 'untracked',
        })),
      )
      .returning(['id', 'email'])
      .execute();
    for (const row of rows) readers.set(row.email, row.id);
    await db
      .insertInto('subscriptions')
      .values(
        rows.flatMap((row) =>
          orderedSlugs.map((slug) => ({ subscriber_id: row.id, segment_id: idOf.get(slug) as number })),
        ),
      )
      .execute();
  });
  afterAll(async () => {
    await test?.close();
  });

  /** A fresh issue for `week`, its audience frozen with `storedOrder` on three readers, sent through SMTP. */
  async function send(week: string, env: Record<string, string>) {
    const { db } = test;
    const issue = await db
      .insertInto('issues')
      .values({ week, status: 'approved' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const issueContent = { ...content, issueId: issue.id, week };
    await startSend(db, issue.id, {
      messageIdDomain: 'news.example.test',
      segmentIds: content.sections.map((section) => section.segment.id),
    });
    const withOrder = ['ordered', 'untracked', 'retried'].map(
      (name) => readers.get(`${name}@example.test`) as string,
    );
    await db
      .updateTable('deliveries')
      .set({ story_order: storedOrder, order_group: 'personal' })
      .where('issue_id', '=', issue.id)
      .where('subscriber_id', 'in', withOrder)
      .execute();
    // The retried reader's first RCPT is refused (451), the second accepted.
    let retriedRcpts = 0;
    const sink = await startSmtpSink({
      onRcptTo: (address) =>
        address === 'retried@example.test' && retriedRcpts++ === 0
          ? refusal(451, '4.3.0 try again later')
          : undefined,
    });
    const config = testConfig({ SMTP_URL: sink.url, ...env });
    const mailer = createSmtpMailer({ url: sink.url, maxConnections: 2 });
    try {
      const summary = await runWorker({
        db,
        mailer,
        config,
        workerId: `w-${week}`,
        issueId: issue.id,
        messages: async () => messageFactoryFor(issueContent, config),
        retry: fastRetry,
        pollMs: 20,
      });
      expect(summary).toMatchObject({ sent: 4, failed: 0 });
      expect(retriedRcpts).toBe(2);
      const attempts = await db
        .selectFrom('deliveries')
        .select('attempts')
        .where('issue_id', '=', issue.id)
        .where('subscriber_id', '=', readers.get('retried@example.test') as string)
        .executeTakeFirstOrThrow();
      expect(attempts.attempts).toBe(2);
      return new Map(sink.messages.map((message) => [message.envelopeTo[0] as string, message.parsed]));
    } finally {
      await mailer.close();
      await sink.close();
    }
  }

  function storiesOf(parsed: { html?: string | false | undefined; text?: string | undefined }) {
    const html = parsed.html || '';
    const text = parsed.text ?? '';
    const inOrder = (find: (title: string) => number) =>
      [...titles.entries()]
        .map(([id, title]) => ({ id, at: find(title) }))
        .filter((entry) => entry.at >= 0)
        .sort((a, b) => a.at - b.at)
        .map((entry) => entry.id);
    return {
      html: inOrder((title) => html.indexOf(`>${escapeHtml(title)}</a>`)),
      text: inOrder((title) => text.indexOf(`\n${wrap(title)}\n`)),
    };
  }

  it('sends a tracked copy in its stored order (a retry too), untracked and unordered copies in the editorial one', async () => {
    const received = await send('2026-W48', {});
    expect([...received.keys()].sort()).toEqual([...readers.keys()].sort());
    for (const [email, expected] of [
      ['ordered@example.test', personal],
      ['retried@example.test', personal],
      ['editorial@example.test', editorial],
      ['untracked@example.test', editorial],
    ] as const) {
      const parsed = received.get(email);
      if (!parsed) throw new Error(`nothing for ${email}`);
      expect(storiesOf(parsed)).toEqual({ html: expected, text: expected });
    }
    // The untracked copy links to the originals: its order is not the stored one whatever the row says.
    expect(received.get('untracked@example.test')?.html).not.toMatch(/\/c\//);
  });

  it('sends every copy in the editorial order with PERSONAL_ORDER=off', async () => {
    const received = await send('2026-W49', { PERSONAL_ORDER: 'off' });
    expect(received.size).toBe(4);
    for (const parsed of received.values())
      expect(storiesOf(parsed)).toEqual({ html: editorial, text: editorial });
  });
});
