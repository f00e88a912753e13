import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import type { Db } from '../../src/db/database.ts';
import { startSend } from '../../src/delivery/start-send.ts';
import { createSmtpMailer } from '../../src/mail/smtp-mailer.ts';
import { loadSystemTemplates } from '../../src/render/system-mail.ts';
import {
  countSunsetReaders,
  findInactiveReaders,
  loadSunsetByWeek,
  runSunset,
} from '../../src/subscribers/sunset.ts';
import { sunsetSettings } from '../../src/subscribers/sunset-settings.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { editorFetch } from '../support/editor-fetch.ts';
import { startSmtpSink } from '../support/smtp-sink.ts';
import { createTestApp } from '../web/web-fixtures.ts';

const DAY = 86_400_000;
const AFTER = 3;

let app: App;
let server: RunningServer;
// As an editor who opened the printed link: the server's token on every request.
const fetch = editorFetch(() => server.editor.token);

beforeAll(async () => {
  app = await createTestApp({ SUNSET_AFTER_ISSUES: String(AFTER), SUNSET_GRACE_DAYS: '14' });
  server = await startServer(app, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server?.close();
  await app?.close();
});

/**
 * Readers and `issues` sent weeks. Engagement is generated per reader: `human` issues (1-based) get a
 * human open, `machine` issues a privacy-proxy open that says nothing about reading.
 */
async function seedReaders(db: Db, issues: number) {
  const [segment] = await db
    .insertInto('segments')
    .values({ name: 'Engineers', slug: 'engineers' })
    .returning('id')
    .execute();
  const plan: Record<string, { tracked: boolean; weeks: number; human: number[]; machine: number[] }> = {
    silent: { tracked: true, weeks: issues, human: [], machine: [] },
    reader: { tracked: true, weeks: issues, human: [2], machine: [] },
    untracked: { tracked: false, weeks: issues, human: [], machine: [] },
    newcomer: { tracked: true, weeks: AFTER - 1, human: [], machine: [] },
    proxied: { tracked: true, weeks: issues, human: [], machine: [1, 2, 3] },
    keeper: { tracked: true, weeks: issues, human: [], machine: [] },
  };
  const ids: Record<string, string> = {};
  for (const [name, p] of Object.entries(plan)) {
    const row = await db
      .insertInto('subscribers')
      .values({
        email: `${name}@example.test`,
        name,
        status: 'active',
        confirmed_at: new Date(),
        tracking_enabled: p.tracked,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    ids[name] = row.id;
    await db
      .insertInto('subscriptions')
      .values({ subscriber_id: row.id, segment_id: segment?.id as number })
      .execute();
  }
  for (let n = 1; n <= issues; n++) {
    const issue = await db
      .insertInto('issues')
      .values({ week: `2026-W${String(30 + n).padStart(2, '0')}`, status: 'sent' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const sentAt = new Date(Date.now() - (issues - n + 1) * 7 * DAY);
    for (const [name, p] of Object.entries(plan)) {
      if (n <= issues - p.weeks) continue;
      await db
        .insertInto('deliveries')
        .values({
          issue_id: issue.id,
          subscriber_id: ids[name] as string,
          segment_key: 'engineers',
          status: 'sent',
          tracked: p.tracked,
          message_id: `<${n}.${name}@test>`,
          sent_at: sentAt,
          created_at: sentAt,
        })
        .execute();
      const kinds = [
        ...(p.human.includes(n) ? ['human' as const] : []),
        ...(p.machine.includes(n) ? ['machine' as const] : []),
      ];
      for (const cls of kinds) {
        await db
          .insertInto('tracking_events')
          .values({
            kind: 'open',
            issue_id: issue.id,
            subscriber_id: ids[name] as string,
            class: cls,
            occurred_at: sentAt,
          })
          .execute();
      }
    }
  }
  return ids;
}

const statusOf = async (db: Db, id: string) =>
  (await db.selectFrom('subscribers').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;

describe('sunsetting inactive readers', () => {
  it('mails exactly the inactive tracked readers once; the keep link stops it; grace expiry pauses', async () => {
    const { db } = app;
    const ids = await seedReaders(db, 4);
    expect((await findInactiveReaders(db, AFTER)).sort()).toEqual(
      [ids.silent, ids.proxied, ids.keeper].sort(),
    );

    const sink = await startSmtpSink();
    const mailer = createSmtpMailer({ url: sink.url, maxConnections: 1 });
    const templates = await loadSystemTemplates();
    const settings = sunsetSettings(app.config);
    const t0 = new Date(Date.now() + DAY);
    try {
      expect(await runSunset(db, mailer, templates, settings, t0)).toEqual({
        asked: 3,
        failed: 0,
        paused: 0,
        answered: 0,
      });
      expect(sink.messages.map((m) => m.envelopeTo[0]).sort()).toEqual([
        'keeper@example.test',
        'proxied@example.test',
        'silent@example.test',
      ]);
      const mail = sink.messages.find((m) => m.envelopeTo[0] === 'keeper@example.test');
      expect(mail?.parsed.subject).toBe('Still want the Weekly AI Recap?');
      expect(mail?.parsed.text).toContain('pause your recap in 14 days');
      const keepUrl = /http:\/\/recap\.test\/keep\/\S+/.exec(mail?.parsed.text ?? '')?.[0] as string;
      expect(keepUrl).toBeTruthy();
      expect(mail?.parsed.html).toContain(`href="${keepUrl}"`);

      // A second run a day later mails nobody again and pauses nobody yet.
      expect(await runSunset(db, mailer, templates, settings, new Date(t0.getTime() + DAY))).toMatchObject({
        asked: 0,
        paused: 0,
      });
      expect(sink.messages).toHaveLength(3);

      // The keep link: GET (what a link scanner does) changes nothing, POST keeps.
      const local = keepUrl.replace('http://recap.test', server.url);
      const shown = await fetch(local);
      expect(shown.status).toBe(200);
      expect(await shown.text()).toContain('<form method="post"');
      expect(
        (
          await db
            .selectFrom('subscribers')
            .select('reengagement_sent_at')
            .where('id', '=', ids.keeper as string)
            .executeTakeFirstOrThrow()
        ).reengagement_sent_at,
      ).not.toBeNull();
      const kept = await fetch(local, { method: 'POST' });
      expect(kept.status).toBe(200);
      expect(await (await fetch(local.replace('/keep/', '/keep/x'), { method: 'POST' })).status).toBe(404);

      // The silent reader reads the mail's week after all: that answers too.
      await db
        .insertInto('tracking_events')
        .values({
          kind: 'click',
          issue_id: await firstIssueId(db),
          subscriber_id: ids.silent as string,
          class: 'human',
          occurred_at: new Date(t0.getTime() + 2 * DAY),
        })
        .execute();

      const later = new Date(t0.getTime() + 15 * DAY);
      expect(await runSunset(db, mailer, templates, settings, later)).toEqual({
        asked: 0,
        failed: 0,
        paused: 1,
        answered: 1,
      });
      expect(await statusOf(db, ids.proxied as string)).toBe('sunset');
      for (const name of ['silent', 'reader', 'untracked', 'newcomer', 'keeper'])
        expect(await statusOf(db, ids[name] as string), name).toBe('active');
      expect(await countSunsetReaders(db)).toBe(1);
      const consent = await db
        .selectFrom('consent_log')
        .select(['subscriber_id', 'action', 'detail'])
        .where('action', 'in', ['reengagement-sent', 'kept', 'sunset-paused'])
        .orderBy('id')
        .execute();
      expect(consent.filter((c) => c.action === 'kept')).toEqual([
        {
          subscriber_id: ids.keeper,
          action: 'kept',
          detail: expect.objectContaining({ shown: 'Keep the recap coming', source: 'web' }),
        },
      ]);
      expect(consent.filter((c) => c.action === 'sunset-paused').map((c) => c.subscriber_id)).toEqual([
        ids.proxied,
      ]);
      const weeks = await loadSunsetByWeek(db);
      expect(weeks.reduce((sum, w) => sum + w.asked, 0)).toBe(3);
      expect(weeks.reduce((sum, w) => sum + w.paused, 0)).toBe(1);
      // The editor's dashboard shows them per week.
      const dashboard = await (await fetch(`${server.url}/editor/dashboard`)).text();
      expect(dashboard).toContain('<h2>Sunsetting</h2>');
      expect(dashboard).toContain('data-metric="sunset-paused-now">1<');
      expect(dashboard).toContain('Not tracked (reader&#39;s choice)');

      // Paused, not deleted: left out of the next audience, and shown as such in the preference centre.
      const issue = await db
        .insertInto('issues')
        .values({ week: '2026-W40', status: 'approved' })
        .returning('id')
        .executeTakeFirstOrThrow();
      await db
        .insertInto('issue_items')
        .values({
          issue_id: issue.id,
          segment_id: await segmentId(db),
          story_id: await storyId(db),
          position: 0,
          score: 1,
        })
        .execute();
      await startSend(db, issue.id, { messageIdDomain: 'recap.test' });
      const audience = await db
        .selectFrom('deliveries')
        .select('subscriber_id')
        .where('issue_id', '=', issue.id)
        .execute();
      expect(audience.map((d) => d.subscriber_id)).not.toContain(ids.proxied);
      expect(audience).toHaveLength(5);
      const preferences = settings
        .links(ids.proxied as string)
        .preferencesUrl.replace('http://recap.test', server.url);
      expect(await (await fetch(preferences)).text()).toContain(
        'Your recap is paused because you had not opened it for a while',
      );

      // The keep link still works after the pause: the reader is back.
      const proxiedMail = sink.messages.find((m) => m.envelopeTo[0] === 'proxied@example.test');
      const proxiedKeep = /http:\/\/recap\.test\/keep\/\S+/.exec(
        proxiedMail?.parsed.text ?? '',
      )?.[0] as string;
      expect(
        (await fetch(proxiedKeep.replace('http://recap.test', server.url), { method: 'POST' })).status,
      ).toBe(200);
      expect(await statusOf(db, ids.proxied as string)).toBe('active');
    } finally {
      await mailer.close();
      await sink.close();
    }
  });
});

async function storyId(db: Db): Promise<string> {
  await db
    .insertInto('stories')
    .values({
      id: 'sunset-story',
      title: 'A story',
      url: 'https://news.example.test/a',
      canonical_url: 'https://news.example.test/a',
      source_name: 'Example',
      published_at: new Date(),
      related: '[]',
    })
    .onConflict((oc) => oc.doNothing())
    .execute();
  return 'sunset-story';
}

async function firstIssueId(db: Db): Promise<number> {
  const row = await db.selectFrom('issues').select('id').orderBy('id').executeTakeFirstOrThrow();
  return row.id;
}

async function segmentId(db: Db): Promise<number> {
  const row = await db
    .selectFrom('segments')
    .select('id')
    .where('slug', '=', 'engineers')
    .executeTakeFirstOrThrow();
  return row.id;
}
