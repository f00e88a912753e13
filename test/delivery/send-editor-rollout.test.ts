import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { markSendPaused } from '../../src/delivery/send-control.ts';
import { startSend } from '../../src/delivery/start-send.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { seedWeek, testApp, WEEK } from '../editor/editor-seed.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { editorFetch } from '../support/editor-fetch.ts';

describe('the editor shows a local-time rollout, why a send paused itself, and each relay’s count', () => {
  let t: TestDatabase;
  let app: App;
  let server: RunningServer;
  // As an editor who opened the printed link: the server's token on every request.
  const fetch = editorFetch(() => server.editor.token);

  beforeAll(async () => {
    t = await createTestDatabase();
    await seedWeek(t);
    app = testApp(t, { RECAP_DELIVERY: 'local', RECAP_TZ: 'Europe/Berlin' });
    server = await startServer(app, { port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await server?.close();
    await app?.close();
    await t?.close();
  });

  it('lists deliveries by the hour they come due and shows the guard reason', async () => {
    const built = await fetch(`${server.url}/editor/issues/${WEEK}/build`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url },
      body: '',
    });
    expect(built.status).toBe(303);
    const subscribers = await t.db.selectFrom('subscribers').select('id').orderBy('id').execute();
    expect(subscribers.length).toBeGreaterThan(1);
    await t.db
      .updateTable('subscribers')
      .set({ time_zone: 'Pacific/Kiritimati' })
      .where('id', '=', subscribers[0]?.id as string)
      .execute();
    const issue = await t.db
      .selectFrom('issues')
      .select('id')
      .where('week', '=', WEEK)
      .executeTakeFirstOrThrow();
    await startSend(t.db, issue.id, {
      messageIdDomain: 'news.example.test',
      localTime: { time: '08:00', defaultTimeZone: 'Europe/Berlin' },
    });
    const reason =
      'deliverability guard: hard bounces at 9.8 % of 510 attempts, over SEND_MAX_BOUNCE_RATE 5 %';
    expect(await markSendPaused(t.db, issue.id, reason)).toBe(true);

    const page = await (await fetch(`${server.url}/editor/issues/${WEEK}`)).text();
    expect(page).toContain(reason);
    expect(page).toContain('Rollout by hour (UTC)');
    // Week 47 of 2026 goes out on Monday 23 November: Kiritimati at 18:00 UTC the day before, Berlin at 07:00.
    expect(page).toMatch(/<td>2026-11-22 18<\/td><td>0<\/td><td>1<\/td>/);
    expect(page).toMatch(new RegExp(`<td>2026-11-23 07</td><td>0</td><td>${subscribers.length - 1}</td>`));
  });

  it('shows how many messages each relay carried, as the workers counted them', async () => {
    const issue = await t.db
      .selectFrom('issues')
      .select('id')
      .where('week', '=', WEEK)
      .executeTakeFirstOrThrow();
    // Two workers' counts for one relay, one for the other (what recordOutcomes adds with SMTP_URLS).
    await t.db
      .insertInto('issue_relay_counts')
      .values([
        { issue_id: issue.id, relay: 'a.example:587', worker_id: 'w1', sent: 200 },
        { issue_id: issue.id, relay: 'a.example:587', worker_id: 'w2', sent: 100 },
        { issue_id: issue.id, relay: 'b.example:587', worker_id: 'w1', sent: 100 },
      ])
      .execute();
    const page = await (await fetch(`${server.url}/editor/issues/${WEEK}`)).text();
    expect(page).toContain('Sent per relay');
    expect(page).toContain('<tr><td>a.example:587</td><td>300</td><td>75 %</td></tr>');
    expect(page).toContain('<tr><td>b.example:587</td><td>100</td><td>25 %</td></tr>');
  });
});
